using System.Text;

namespace FeatureAug.Core.Tests.Build;

/// <summary>
/// The build marks libLibTorchSharp.so's GLIBCXX_3.4.32 requirement weak in its own output where the
/// system libstdc++ lacks that version, and leaves the NuGet cache's copy as published.
/// </summary>
public class GlibcxxWeakVersionTests
{
    private const string Version = "GLIBCXX_3.4.32";

    [Fact]
    public void OutputCopyIsWeakWhereTheSystemLacksTheVersionAndTheCacheIsUntouched()
    {
        if (!OperatingSystem.IsLinux()) return;
        string output = Directory.EnumerateFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories).Single();
        string cache = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
            "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

        ushort? outputFlags = RequirementFlags(output, Version);
        Assert.NotNull(outputFlags); // TorchSharp 0.107 does ask for it
        bool systemHasIt = File.Exists("/usr/lib/x86_64-linux-gnu/libstdc++.so.6")
            && Encoding.ASCII.GetString(File.ReadAllBytes("/usr/lib/x86_64-linux-gnu/libstdc++.so.6")).Contains(Version + "\0");
        if (!systemHasIt) Assert.Equal(2, outputFlags!.Value & 2);
        if (File.Exists(cache)) Assert.Equal(0, RequirementFlags(cache, Version)!.Value & 2);
    }

    /// <summary>vna_flags of the named Vernaux entry in .gnu.version_r, or null when absent (ELF64 little-endian).</summary>
    private static ushort? RequirementFlags(string path, string name)
    {
        byte[] elf = File.ReadAllBytes(path);
        long sections = BitConverter.ToInt64(elf, 0x28);
        int entrySize = BitConverter.ToUInt16(elf, 0x3A), count = BitConverter.ToUInt16(elf, 0x3C);
        for (int s = 0; s < count; s++)
        {
            int header = (int)(sections + s * entrySize);
            if (BitConverter.ToUInt32(elf, header + 4) != 0x6ffffffe) continue; // SHT_GNU_verneed
            int need = (int)BitConverter.ToInt64(elf, header + 24);
            int strings = (int)BitConverter.ToInt64(elf, (int)(sections + BitConverter.ToUInt32(elf, header + 40) * entrySize) + 24);
            for (uint n = 0, needs = BitConverter.ToUInt32(elf, header + 44); n < needs; n++)
            {
                int aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                for (int a = 0; a < BitConverter.ToUInt16(elf, need + 2); a++)
                {
                    int nameStart = strings + (int)BitConverter.ToUInt32(elf, aux + 8);
                    int nameEnd = Array.IndexOf(elf, (byte)0, nameStart);
                    if (Encoding.ASCII.GetString(elf, nameStart, nameEnd - nameStart) == name) return BitConverter.ToUInt16(elf, aux + 4);
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                need += (int)BitConverter.ToUInt32(elf, need + 12);
            }
        }
        return null;
    }
}
