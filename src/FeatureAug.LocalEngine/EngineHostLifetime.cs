using Microsoft.Extensions.Hosting;

namespace FeatureAug.LocalEngine;

/// <summary>
/// Lifetime of the hosts inside a local engine: they stop when the engine is disposed, never on a signal of
/// their own. The default console lifetime stops a host on Ctrl-C or SIGTERM by itself, which would cancel
/// activity bodies before the durable engine has handed their work back, and race the CLI's own shutdown.
/// </summary>
internal sealed class EngineHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
