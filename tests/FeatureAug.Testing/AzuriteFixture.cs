using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FeatureAug.Testing;

/// <summary>
/// Starts the Azurite storage emulator for a test collection: on free loopback ports, in memory, with
/// the API version check off, and stops it (the whole process tree) on dispose. Azurite is the copy
/// tools/install-azurite.sh puts in tools/azurite/node_modules; when it is missing the fixture fails
/// and says so, rather than letting Blob tests skip silently.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>Azurite's published development account (public, documented, not a secret).</summary>
    public const string AccountName = "devstoreaccount1";

    public const string AccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>Path of the Azurite entry script, relative to the repository root.</summary>
    public const string EntryScriptRelativePath = "tools/azurite/node_modules/azurite/dist/src/azurite.js";

    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(60);
    private const int StartAttempts = 3;

    private Process? _process;
    private readonly StringBuilder _output = new();
    private string? _workspace;

    public int BlobPort { get; private set; }
    public int QueuePort { get; private set; }
    public int TablePort { get; private set; }

    /// <summary>Connection string for the running emulator's blob, queue and table endpoints.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>
    /// Keep data on disk (--location) instead of in memory, so the emulator can be stopped and started
    /// again on the same ports with its data intact (outage tests).
    /// </summary>
    public bool Persistent { get; init; }

    /// <summary>
    /// Stops the emulator as an operator would (SIGTERM, so a persistent one saves its data first): every
    /// request fails until <see cref="RestartAsync"/>.
    /// </summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited) return;
        using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString() } })!)
            await kill.WaitForExitAsync().ConfigureAwait(false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        await StopProcessAsync().ConfigureAwait(false);
    }

    /// <summary>Starts the emulator again on the same ports (with its data when <see cref="Persistent"/>).</summary>
    public async Task RestartAsync()
    {
        await StopProcessAsync().ConfigureAwait(false);
        StartProcess(LocateOnPath("node")!, LocateEntryScript());
        string? failure = await WaitUntilListeningAsync().ConfigureAwait(false);
        if (failure is not null) throw new InvalidOperationException($"Azurite did not restart ({failure}). Its output:\n{Output()}");
    }

    public async Task InitializeAsync()
    {
        string entryScript = LocateEntryScript();
        string node = LocateOnPath("node") ?? throw new InvalidOperationException(
            "Azurite needs Node.js, but 'node' is not on PATH. Run tools/install-azurite.sh (it installs node with apt-get).");
        _workspace = Directory.CreateTempSubdirectory("featureaug-azurite-").FullName;

        // A port found free can be taken by someone else before Azurite binds it; then try new ports.
        for (int attempt = 1; ; attempt++)
        {
            (BlobPort, QueuePort, TablePort) = (FreePort(), FreePort(), FreePort());
            StartProcess(node, entryScript);
            string? failure = await WaitUntilListeningAsync().ConfigureAwait(false);
            if (failure is null)
                break;
            await StopProcessAsync().ConfigureAwait(false);
            if (attempt == StartAttempts)
                throw new InvalidOperationException($"Azurite did not start ({failure}). Its output:\n{Output()}");
        }

        ConnectionString =
            $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{AccountName};" +
            $"QueueEndpoint=http://127.0.0.1:{QueuePort}/{AccountName};" +
            $"TableEndpoint=http://127.0.0.1:{TablePort}/{AccountName};";
    }

    public async Task DisposeAsync()
    {
        await StopProcessAsync().ConfigureAwait(false);
        if (_workspace is not null && Directory.Exists(_workspace))
            Directory.Delete(_workspace, recursive: true);
    }

    /// <summary>Finds the repository root (the folder holding FeatureAugFunctions.sln) above the test binaries.</summary>
    public static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "FeatureAugFunctions.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException(
            $"No FeatureAugFunctions.sln above '{AppContext.BaseDirectory}'; cannot find tools/azurite.");
    }

    private static string LocateEntryScript()
    {
        string root = FindRepositoryRoot();
        string entry = Path.Combine(root, EntryScriptRelativePath.Replace('/', Path.DirectorySeparatorChar));
        if (!File.Exists(entry))
            throw new InvalidOperationException(
                $"Azurite is not installed: '{entry}' does not exist. Run tools/install-azurite.sh " +
                "(it installs the pinned Azurite with npm into tools/azurite/node_modules), then run the tests again.");
        return entry;
    }

    private static string? LocateOnPath(string program)
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (directory.Length == 0)
                continue;
            string candidate = Path.Combine(directory, OperatingSystem.IsWindows() ? program + ".exe" : program);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    private void StartProcess(string node, string entryScript)
    {
        var start = new ProcessStartInfo(node)
        {
            // In-memory persistence excludes --location; the working directory catches any stray file.
            WorkingDirectory = _workspace,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[]
                 {
                     entryScript,
                     "--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString(),
                     "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(),
                     "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(),
                     "--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry",
                 })
            start.ArgumentList.Add(argument);
        if (Persistent)
        {
            start.ArgumentList.Add("--location");
            start.ArgumentList.Add(_workspace!);
        }
        else
        {
            start.ArgumentList.Add("--inMemoryPersistence");
        }

        lock (_output)
            _output.Clear();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => Remember(line.Data);
        process.ErrorDataReceived += (_, line) => Remember(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    /// <summary>Null once all three ports accept connections; otherwise why not.</summary>
    private async Task<string?> WaitUntilListeningAsync()
    {
        var deadline = DateTime.UtcNow + StartupTimeout;
        var pending = new List<int> { BlobPort, QueuePort, TablePort };
        while (pending.Count > 0)
        {
            if (_process!.HasExited)
                return $"it exited with code {_process.ExitCode}";
            if (DateTime.UtcNow > deadline)
                return $"ports {string.Join(", ", pending)} were not listening after {StartupTimeout.TotalSeconds:0} s";
            foreach (int port in pending.ToArray())
            {
                using var client = new TcpClient();
                try
                {
                    await client.ConnectAsync(IPAddress.Loopback, port).ConfigureAwait(false);
                    pending.Remove(port);
                }
                catch (SocketException)
                {
                    // Not listening yet.
                }
            }
            if (pending.Count > 0)
                await Task.Delay(100).ConfigureAwait(false);
        }
        return null;
    }

    private async Task StopProcessAsync()
    {
        if (_process is null)
            return;
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            _process.Dispose();
            _process = null;
        }
    }

    private void Remember(string? line)
    {
        if (line is null)
            return;
        lock (_output)
        {
            if (_output.Length < 64 * 1024)
                _output.AppendLine(line);
        }
    }

    private string Output()
    {
        lock (_output)
            return _output.Length == 0 ? "(nothing)" : _output.ToString();
    }
}
