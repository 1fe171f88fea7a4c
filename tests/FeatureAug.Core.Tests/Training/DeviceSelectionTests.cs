using TorchSharp;

namespace FeatureAug.Core.Tests.Training;

public class DeviceSelectionTests
{
    [Fact]
    public void ResolvesNames()
    {
        Assert.Equal(DeviceType.CPU, DeviceSelection.Resolve("cpu").type);
        Assert.Equal(DeviceType.CPU, DeviceSelection.Resolve(" CPU ").type);
        var expectedAuto = torch.cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU;
        Assert.Equal(expectedAuto, DeviceSelection.Resolve("auto").type);
    }

    [Fact]
    public void CudaWithoutAGpuIsAClearError()
    {
        if (torch.cuda.is_available())
        {
            Assert.Equal(DeviceType.CUDA, DeviceSelection.Resolve("cuda").type);
            return;
        }
        var error = Assert.Throws<InvalidOperationException>(() => DeviceSelection.Resolve("cuda"));
        Assert.Contains("CUDA is not available", error.Message);
    }

    [Fact]
    public void UnknownDeviceListsTheValidOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => DeviceSelection.Resolve("tpu"));
        Assert.Contains("'tpu'", error.Message);
        Assert.Contains("auto, cpu, cuda", error.Message);
    }

    [Fact]
    public void ThreadCountMustBePositive()
    {
        // Only the rejection is tested: changing the process-wide count would disturb tests running in parallel.
        Assert.Throws<ArgumentOutOfRangeException>(() => DeviceSelection.SetThreads(0));
    }
}
