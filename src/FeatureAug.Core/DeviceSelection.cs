using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core;

/// <summary>Turns the user's device choice (auto, cpu, cuda) into a TorchSharp device, and sets CPU threads.</summary>
public static class DeviceSelection
{
    /// <summary>The accepted device names.</summary>
    public static IReadOnlyList<string> Names { get; } = new[] { "auto", "cpu", "cuda" };

    /// <summary>
    /// auto: CUDA when torch.cuda.is_available(), else CPU. cpu: always CPU. cuda: CUDA, or an error
    /// when no GPU is usable (no device visible, or the CPU TorchSharp package is in use).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown device name.</exception>
    /// <exception cref="InvalidOperationException">cuda requested but CUDA is not available.</exception>
    public static Device Resolve(string requested)
    {
        ArgumentNullException.ThrowIfNull(requested);
        return requested.Trim().ToLowerInvariant() switch
        {
            "auto" => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
            "cpu" => torch.CPU,
            "cuda" => torch.cuda.is_available()
                ? torch.CUDA
                : throw new InvalidOperationException(
                    "Device 'cuda' was requested but CUDA is not available (no GPU visible, or this build uses the CPU TorchSharp package). Use 'cpu' or 'auto'."),
            _ => throw new ArgumentException($"Unknown device '{requested}'. Valid devices: {string.Join(", ", Names)}.", nameof(requested)),
        };
    }

    /// <summary>Applies a thread count (0 keeps torch's default: all cores) and resolves the device a run asked for.</summary>
    public static Device Prepare(string requested, int threads)
    {
        if (threads > 0) SetThreads(threads);
        return Resolve(requested);
    }

    /// <summary>Sets the number of CPU threads TorchSharp uses for intra-op parallelism (process-wide).</summary>
    /// <exception cref="ArgumentOutOfRangeException">threads is not positive.</exception>
    public static void SetThreads(int threads)
    {
        if (threads <= 0)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "The thread count must be positive.");
        torch.set_num_threads(threads);
    }
}
