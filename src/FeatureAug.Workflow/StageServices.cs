using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FeatureAug.Workflow;

/// <summary>
/// What the base of every activity takes from its host, in one injected service: the execution log, the
/// loggers, and the host's shutdown as a token. durabletask-dotnet's TaskActivityContext carries no token,
/// so the host's <see cref="IHostApplicationLifetime.ApplicationStopping"/> is the signal; every host
/// FeatureAug runs in has one (the CLI's engines, the tests' engines, the Functions isolated worker).
/// </summary>
/// <remarks>
/// As a hosted service it also makes the host's shutdown wait (up to the host's shutdown timeout) for
/// activity bodies that are unwinding from that cancellation, so their last writes (the finished epochs'
/// checkpoints) complete before the host's services are disposed and the process exits.
/// </remarks>
public sealed class StageServices(ActivityExecutionLog executions, ILoggerFactory loggers, IHostApplicationLifetime? lifetime = null)
    : IHostedService
{
    private readonly Lock gate = new();
    private int running;
    private TaskCompletionSource? idle;

    public ActivityExecutionLog Executions => executions;

    public ILoggerFactory Loggers => loggers;

    /// <summary>Fires when the host begins to stop; never fires in a host without a lifetime.</summary>
    public CancellationToken Stopping { get; } = lifetime?.ApplicationStopping ?? CancellationToken.None;

    /// <summary>
    /// Counts one activity body as running until the result is disposed. Once the host is stopping no body
    /// starts (its shutdown wait may be over already): that throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public IDisposable Enter()
    {
        lock (gate)
        {
            Stopping.ThrowIfCancellationRequested();
            running++;
        }
        return new Exit(this);
    }

    /// <summary>Completes once no activity body is running.</summary>
    public Task WhenIdleAsync(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (running == 0) return Task.CompletedTask;
            idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return idle.Task.WaitAsync(cancellationToken);
        }
    }

    Task IHostedService.StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    async Task IHostedService.StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await WhenIdleAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host stops anyway; an activity that ignores its token must not hold the process.
            loggers.CreateLogger<StageServices>().LogWarning("Host shutdown timed out with {Count} activities still running.", running);
        }
    }

    private void Leave()
    {
        TaskCompletionSource? done = null;
        lock (gate)
        {
            if (--running == 0) (done, idle) = (idle, null);
        }
        done?.TrySetResult();
    }

    private sealed class Exit(StageServices owner) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0) owner.Leave();
        }
    }
}
