using System.Diagnostics;
using System.Text.RegularExpressions;

namespace FeatureAug.Deployment.Tests.Security;

/// <summary>
/// No secret is committed: tracked files hold no storage account keys, connection strings with keys, SAS
/// signatures or private keys, except Azurite's published development key (public, documented).
/// </summary>
public partial class SecretScanTests
{
    /// <summary>Azurite's well-known development account key (learn.microsoft.com, "Use Azurite").</summary>
    private const string AzuriteDevelopmentKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    [GeneratedRegex(@"AccountKey\s*=\s*([A-Za-z0-9+/=]{20,})", RegexOptions.IgnoreCase)]
    private static partial Regex AccountKey();

    [GeneratedRegex(@"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])")]
    private static partial Regex Base64StorageKey();

    [GeneratedRegex(@"[?&]sig=[A-Za-z0-9%+/=]{20,}", RegexOptions.IgnoreCase)]
    private static partial Regex SasSignature();

    [GeneratedRegex(@"-----BEGIN (RSA |EC |OPENSSH |)PRIVATE KEY-----")]
    private static partial Regex PrivateKey();

    [GeneratedRegex(@"InstrumentationKey\s*=\s*[0-9a-f]{8}-", RegexOptions.IgnoreCase)]
    private static partial Regex InstrumentationKey();

    internal static IReadOnlyList<string> Findings(string path, string text)
    {
        var findings = new List<string>();
        foreach (Match match in AccountKey().Matches(text))
            if (match.Groups[1].Value != AzuriteDevelopmentKey) findings.Add($"{path}: AccountKey=…");
        foreach (Match match in Base64StorageKey().Matches(text))
            if (match.Value != AzuriteDevelopmentKey) findings.Add($"{path}: a 64-byte base64 key");
        if (SasSignature().IsMatch(text)) findings.Add($"{path}: a SAS signature");
        if (PrivateKey().IsMatch(text)) findings.Add($"{path}: a private key");
        if (InstrumentationKey().IsMatch(text)) findings.Add($"{path}: an Application Insights key");
        return findings;
    }

    [Fact]
    public void TrackedFilesHoldNoSecrets()
    {
        var start = new ProcessStartInfo("git", "ls-files -z") { WorkingDirectory = RepositoryPaths.Root, RedirectStandardOutput = true };
        using var git = Process.Start(start)!;
        string listing = git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        Assert.Equal(0, git.ExitCode);
        var files = listing.Split('\0', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("README.md", files);

        var findings = new List<string>();
        foreach (string file in files)
        {
            string full = Path.Combine(RepositoryPaths.Root, file);
            if (!File.Exists(full) || new FileInfo(full).Length > 2_000_000) continue;
            byte[] bytes = File.ReadAllBytes(full);
            if (Array.IndexOf(bytes, (byte)0) >= 0) continue; // binary
            findings.AddRange(Findings(file, System.Text.Encoding.UTF8.GetString(bytes)));
        }
        Assert.True(findings.Count == 0, string.Join(Environment.NewLine, findings));
    }

    /// <summary>Secrets of each kind, assembled at run time so that this file itself stays clean for the scan.</summary>
    public static TheoryData<string> RealLookingSecrets()
    {
        string fakeKey = string.Concat(Enumerable.Repeat("q1W2e3R4t5Y6", 8)) + "aBcDeF" + "==";
        return new TheoryData<string>
        {
            "DefaultEndpointsProtocol=https;AccountName=prod;Account" + "Key=" + fakeKey + ";",
            "https://acct.blob.core.windows.net/c/b?sv=2024-01-01&" + "sig=" + "abcdEFGHijklMNOPqrstUVWXyz0123456789%2B%3D",
            "-----BEGIN " + "PRIVATE KEY-----",
            "Instrumentation" + "Key=0a1b2c3d-1111-2222-3333-444455556666",
        };
    }

    [Theory]
    [MemberData(nameof(RealLookingSecrets))]
    public void TheScanFindsRealLookingSecrets(string text) => Assert.NotEmpty(Findings("x", text));

    [Fact]
    public void AzuritesPublishedKeyIsAllowed() =>
        Assert.Empty(Findings("x", $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteDevelopmentKey};"));
}
