using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Sets VER_FLG_WEAK on one named version requirement (Vernaux entry) of 64-bit little-endian ELF
/// shared objects, in place. Idempotent: a file whose entry is already weak is left untouched.
/// Mode "auto" patches only when the system libstdc++ lacks the version; "true" always patches.
/// </summary>
public sealed class WeakenElfVersionRequirement : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string VersionName { get; set; } = "";
    [Required] public string Mode { get; set; } = "auto";

    public override bool Execute()
    {
        if (Mode == "auto" && SystemLibStdCxxProvides(VersionName))
        {
            Log.LogMessage(MessageImportance.Low, $"System libstdc++ provides {VersionName}; no patch needed.");
            return true;
        }
        foreach (var item in Files)
        {
            string path = item.ItemSpec;
            try
            {
                string outcome = Patch(path, VersionName);
                Log.LogMessage(MessageImportance.Normal, $"{path}: {outcome}");
            }
            catch (Exception ex)
            {
                Log.LogError($"Could not mark {VersionName} weak in {path}: {ex.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }

    private static bool SystemLibStdCxxProvides(string version)
    {
        string[] candidates =
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
        };
        foreach (string candidate in candidates)
        {
            if (!File.Exists(candidate)) continue;
            byte[] haystack = File.ReadAllBytes(candidate);
            byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
            return IndexOf(haystack, needle) >= 0;
        }
        return false; // no system libstdc++ found: patching is the safe choice
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i <= haystack.Length - needle.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }

    /// <summary>Returns what was done; throws when the file is not a 64-bit little-endian ELF.</summary>
    public static string Patch(string path, string versionName)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("only 64-bit little-endian ELF is supported");

        long sectionHeaderOffset = BitConverter.ToInt64(elf, 0x28);
        int sectionHeaderSize = BitConverter.ToUInt16(elf, 0x3A);
        int sectionCount = BitConverter.ToUInt16(elf, 0x3C);
        for (int s = 0; s < sectionCount; s++)
        {
            long header = sectionHeaderOffset + (long)s * sectionHeaderSize;
            if (BitConverter.ToUInt32(elf, (int)header + 4) != ShtGnuVerneed) continue;
            long verneedOffset = BitConverter.ToInt64(elf, (int)header + 24);
            int stringTableIndex = (int)BitConverter.ToUInt32(elf, (int)header + 40);
            int verneedCount = (int)BitConverter.ToUInt32(elf, (int)header + 44);
            long stringTableHeader = sectionHeaderOffset + (long)stringTableIndex * sectionHeaderSize;
            long stringTableOffset = BitConverter.ToInt64(elf, (int)stringTableHeader + 24);

            long need = verneedOffset;
            for (int n = 0; n < verneedCount; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, (int)need + 2);
                long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    uint nameOffset = BitConverter.ToUInt32(elf, (int)aux + 8);
                    if (ReadCString(elf, stringTableOffset + nameOffset) == versionName)
                    {
                        int flagsAt = (int)aux + 4;
                        ushort flags = BitConverter.ToUInt16(elf, flagsAt);
                        if ((flags & VerFlagWeak) != 0) return $"{versionName} already weak";
                        flags |= VerFlagWeak;
                        // Patch a copy and rename it over the original: the output may be a hard link
                        // into the NuGet cache, which must never be written through. (File.Copy keeps the
                        // file mode; the task compiles against netstandard, so no File.Move overwrite.)
                        string patched = path + ".weak-glibcxx.tmp";
                        File.Copy(path, patched, overwrite: true);
                        using (var stream = new FileStream(patched, FileMode.Open, FileAccess.Write))
                        {
                            stream.Position = flagsAt;
                            stream.Write(BitConverter.GetBytes(flags), 0, 2);
                        }
                        File.Delete(path);
                        File.Move(patched, path);
                        return $"marked {versionName} weak";
                    }
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                need += BitConverter.ToUInt32(elf, (int)need + 12);
            }
        }
        return $"no requirement on {versionName}";
    }

    private static string ReadCString(byte[] bytes, long offset)
    {
        int end = (int)offset;
        while (end < bytes.Length && bytes[end] != 0) end++;
        return Encoding.ASCII.GetString(bytes, (int)offset, end - (int)offset);
    }
}
