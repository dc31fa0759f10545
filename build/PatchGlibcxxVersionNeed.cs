// Compiled by MSBuild's RoslynCodeTaskFactory (see LibTorchSharpGlibcxxPatch.targets); not part of any project.
using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Marks one GNU version requirement (a Vernaux entry in .gnu.version_r) weak in ELF64 little-endian
/// shared libraries, when the host's libstdc++ does not define that version.
/// </summary>
/// <remarks>
/// glibc's loader only warns about a missing weak version instead of refusing to load. The file is
/// patched by writing a new file next to it and renaming it over the original, so a hard link into
/// the NuGet cache is never written through. Timestamps are kept so incremental copies skip it.
/// </remarks>
public class PatchGlibcxxVersionNeed : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    [Required]
    public ITaskItem[] Libraries { get; set; }

    [Required]
    public string VersionName { get; set; }

    public override bool Execute()
    {
        var libstdcxx = FindHostLibstdcxx();
        if (libstdcxx == null)
        {
            Log.LogMessage(MessageImportance.Low, "No libstdc++.so.6 found on the host; not patching.");
            return true;
        }
        if (ContainsVersion(File.ReadAllBytes(libstdcxx), VersionName))
        {
            Log.LogMessage(MessageImportance.Low, "{0} defines {1}; no patch needed.", libstdcxx, VersionName);
            return true;
        }
        foreach (var item in Libraries)
        {
            var path = item.GetMetadata("FullPath");
            var bytes = File.ReadAllBytes(path);
            string error;
            var result = MarkWeak(bytes, VersionName, out error);
            if (error != null)
            {
                Log.LogError("Cannot patch {0}: {1}", path, error);
                return false;
            }
            if (result == PatchResult.NotRequired || result == PatchResult.AlreadyWeak)
            {
                Log.LogMessage(MessageImportance.Low, "{0}: {1} already weak or not required.", path, VersionName);
                continue;
            }
            var lastWrite = File.GetLastWriteTimeUtc(path);
            var temporary = path + ".patching";
            File.WriteAllBytes(temporary, bytes);
            File.SetLastWriteTimeUtc(temporary, lastWrite);
            // Unlink first: if the output copy is a hard link to the NuGet cache, only the link goes.
            File.Delete(path);
            File.Move(temporary, path);
            Log.LogMessage(MessageImportance.High,
                "Marked the {0} requirement weak in {1} (host libstdc++ {2} lacks it).", VersionName, path, libstdcxx);
        }
        return !Log.HasLoggedErrors;
    }

    private enum PatchResult { Patched, AlreadyWeak, NotRequired }

    private static PatchResult MarkWeak(byte[] elf, string versionName, out string error)
    {
        error = null;
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            error = "not an ELF file";
            return PatchResult.NotRequired;
        }
        if (elf[4] != 2 || elf[5] != 1)
        {
            error = "not a 64-bit little-endian ELF file";
            return PatchResult.NotRequired;
        }
        var sectionOffset = (long)BitConverter.ToUInt64(elf, 0x28);
        int sectionSize = BitConverter.ToUInt16(elf, 0x3A);
        int sectionCount = BitConverter.ToUInt16(elf, 0x3C);
        for (var i = 0; i < sectionCount; i++)
        {
            var header = checked((int)(sectionOffset + (long)i * sectionSize));
            if (BitConverter.ToUInt32(elf, header + 4) != ShtGnuVerneed)
            {
                continue;
            }
            var offset = checked((int)BitConverter.ToUInt64(elf, header + 0x18));
            var link = (int)BitConverter.ToUInt32(elf, header + 0x28);
            var needCount = (int)BitConverter.ToUInt32(elf, header + 0x2C);
            var strtabHeader = checked((int)(sectionOffset + (long)link * sectionSize));
            var strtab = checked((int)BitConverter.ToUInt64(elf, strtabHeader + 0x18));
            var need = offset;
            for (var n = 0; n < needCount; n++)
            {
                // Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32.
                int auxCount = BitConverter.ToUInt16(elf, need + 2);
                var aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                for (var a = 0; a < auxCount; a++)
                {
                    // Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
                    var name = ReadCString(elf, strtab + (int)BitConverter.ToUInt32(elf, aux + 8));
                    if (name == versionName)
                    {
                        var flags = BitConverter.ToUInt16(elf, aux + 4);
                        if ((flags & VerFlgWeak) != 0)
                        {
                            return PatchResult.AlreadyWeak;
                        }
                        var patched = BitConverter.GetBytes((ushort)(flags | VerFlgWeak));
                        elf[aux + 4] = patched[0];
                        elf[aux + 5] = patched[1];
                        return PatchResult.Patched;
                    }
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                need += (int)BitConverter.ToUInt32(elf, need + 12);
            }
        }
        return PatchResult.NotRequired;
    }

    private static string ReadCString(byte[] bytes, int start)
    {
        var end = Array.IndexOf(bytes, (byte)0, start);
        return Encoding.ASCII.GetString(bytes, start, end - start);
    }

    private static bool ContainsVersion(byte[] library, string versionName)
    {
        // Version names live NUL-terminated in .dynstr; "GLIBCXX_3.4.32\0" cannot match a longer name.
        var needle = Encoding.ASCII.GetBytes(versionName + "\0");
        for (var i = 0; i <= library.Length - needle.Length; i++)
        {
            var j = 0;
            while (j < needle.Length && library[i + j] == needle[j])
            {
                j++;
            }
            if (j == needle.Length && (i == 0 || library[i - 1] == 0))
            {
                return true;
            }
        }
        return false;
    }

    private static string FindHostLibstdcxx()
    {
        try
        {
            var start = new ProcessStartInfo(File.Exists("/sbin/ldconfig") ? "/sbin/ldconfig" : "ldconfig", "-p") { RedirectStandardOutput = true, UseShellExecute = false };
            using (var process = Process.Start(start))
            {
                var output = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                foreach (var line in output.Split('\n'))
                {
                    var trimmed = line.Trim();
                    if (trimmed.StartsWith("libstdc++.so.6 ") && trimmed.Contains("x86-64") && trimmed.Contains("=> "))
                    {
                        var path = trimmed.Substring(trimmed.IndexOf("=> ", StringComparison.Ordinal) + 3).Trim();
                        if (File.Exists(path))
                        {
                            return path;
                        }
                    }
                }
            }
        }
        catch (Exception)
        {
            // ldconfig may be absent (minimal images, non-root PATH); fall back to the usual paths.
        }
        foreach (var candidate in new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6" })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
