using TorchSharp;

namespace FeatureAug.Core.Runtime;

/// <summary>
/// Runs work with one intra-op thread. Phase-II steps (128 x K) and fusion chunks are small, and the FSA workflow
/// fans fusion out per class, so parallelism belongs across calls, not inside one. On a busy 2-core machine
/// intra-op worker synchronisation made a Phase-II step ~20x slower (25 ms against 1.4 ms) and fusion ~5x slower.
/// The previous setting is restored afterwards (libtorch keeps it per calling thread under OpenMP).
/// </summary>
internal static class TorchThreads
{
    public static T SingleThreaded<T>(Func<T> work)
    {
        int previous = torch.get_num_threads();
        torch.set_num_threads(1);
        try
        {
            return work();
        }
        finally
        {
            torch.set_num_threads(previous);
        }
    }
}
