using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace FeatureAug.Core.Tests.Data;

/// <summary>A real HTTP server on 127.0.0.1 (free port) that serves fixed files and counts requests.</summary>
internal sealed class LoopbackFileServer : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly IReadOnlyDictionary<string, byte[]> files;
    private readonly Task serving;

    public LoopbackFileServer(IReadOnlyDictionary<string, byte[]> files)
    {
        this.files = files;
        // HttpListener cannot bind port 0, so borrow a free port from the OS first.
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        BaseUrl = $"http://127.0.0.1:{port}/data/";
        listener.Prefixes.Add(BaseUrl);
        listener.Start();
        serving = Task.Run(ServeAsync);
    }

    public string BaseUrl { get; }

    public ConcurrentQueue<string> RequestedPaths { get; } = new();

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }

            string name = context.Request.Url!.Segments[^1];
            RequestedPaths.Enqueue(context.Request.Url.AbsolutePath);
            using var response = context.Response;
            if (files.TryGetValue(name, out var body))
            {
                response.ContentLength64 = body.Length;
                await response.OutputStream.WriteAsync(body);
            }
            else
            {
                response.StatusCode = 404;
            }
        }
    }

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        serving.Wait(TimeSpan.FromSeconds(5));
    }
}
