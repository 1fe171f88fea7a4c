using DurableTask.Core;
using Grpc.Core;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using P = Microsoft.DurableTask.Protobuf;

namespace FeatureAug.LocalEngine.DurableStorage;

/// <summary>How often the sidecar pings an open work-item stream.</summary>
internal sealed record SidecarHealthPing(TimeSpan Interval);

/// <summary>
/// TaskHubGrpcServer (InProcessTestHost 0.2.3-preview.1, written against the 1.23 worker) plus the
/// health pings the 1.28 worker expects on its work-item stream: that worker treats 2 minutes without
/// any message as a dead connection and reconnects, which a long activity with nothing else running
/// would cause. Work items the sidecar sends while the worker reconnects are abandoned and retried with
/// growing back-off, so such reconnects would stall a run.
/// </summary>
internal sealed class PingingTaskHubGrpcServer(
    IHostApplicationLifetime hostApplicationLifetime,
    ILoggerFactory loggerFactory,
    IOrchestrationService service,
    IOrchestrationServiceClient client,
    IOptions<TaskHubGrpcServerOptions> options,
    SidecarHealthPing healthPing)
    : TaskHubGrpcServer(hostApplicationLifetime, loggerFactory, service, client, options)
{
    public override async Task GetWorkItems(
        P.GetWorkItemsRequest request, IServerStreamWriter<P.WorkItem> responseStream, ServerCallContext context)
    {
        await using var pinging = new PingingStreamWriter(responseStream, healthPing.Interval);
        await base.GetWorkItems(request, pinging, context).ConfigureAwait(false);
    }

    /// <summary>Serialises the server's writes with a ping written every interval until disposed.</summary>
    private sealed class PingingStreamWriter : IServerStreamWriter<P.WorkItem>, IAsyncDisposable
    {
        private readonly IServerStreamWriter<P.WorkItem> inner;
        private readonly SemaphoreSlim writeLock = new(1, 1);
        private readonly CancellationTokenSource stop = new();
        private readonly Task pinger;

        public PingingStreamWriter(IServerStreamWriter<P.WorkItem> inner, TimeSpan interval)
        {
            this.inner = inner;
            pinger = Task.Run(() => PingAsync(interval, stop.Token));
        }

        public WriteOptions? WriteOptions
        {
            get => inner.WriteOptions;
            set => inner.WriteOptions = value;
        }

        public async Task WriteAsync(P.WorkItem message)
        {
            await writeLock.WaitAsync().ConfigureAwait(false);
            try
            {
                await inner.WriteAsync(message).ConfigureAwait(false);
            }
            finally
            {
                writeLock.Release();
            }
        }

        private async Task PingAsync(TimeSpan interval, CancellationToken token)
        {
            using var timer = new PeriodicTimer(interval);
            try
            {
                while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
                    await WriteAsync(new P.WorkItem { HealthPing = new P.HealthPing() }).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The stream is over.
            }
            catch (InvalidOperationException)
            {
                // The client went away; the server notices on its own and waits for a new connection.
            }
        }

        public async ValueTask DisposeAsync()
        {
            stop.Cancel();
            await pinger.ConfigureAwait(false);
            stop.Dispose();
            writeLock.Dispose();
        }
    }
}
