using TorchSharp;

namespace FeatureAug.Core.Tests.Training;

/// <summary>
/// Tests that seed torch's process-wide generator (torch.manual_seed before building a model) and then
/// draw from it. They must not interleave with other tests drawing from it, so this collection runs alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalTorchRandomCollection : ICollectionFixture<SingleThreadedTorch>
{
    public const string Name = "Global torch random generator";
}

/// <summary>
/// Runs the collection's tiny tensors on one thread: on a shared, busy machine several OpenMP threads
/// spin-wait on each other for every small operation (a 200-step test took 27 s instead of 5 s).
/// Safe to change here because the collection runs alone; the previous count is restored afterwards.
/// </summary>
public sealed class SingleThreadedTorch : IDisposable
{
    private readonly int previous = torch.get_num_threads();

    public SingleThreadedTorch() => torch.set_num_threads(1);

    public void Dispose() => torch.set_num_threads(previous);
}
