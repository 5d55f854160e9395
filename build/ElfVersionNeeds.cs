// Reads and edits the GNU symbol-version requirements of an ELF64 shared library.
// Shared by the build (an inline MSBuild task, see TorchSharpNative.targets) and by GenAI.Core, which uses
// the same reading to explain a native-load failure. Keep it free of newer BCL APIs: the MSBuild inline
// task compiles it against netstandard.
#nullable disable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace GenAI.Build
{
    /// <summary>One version a library needs from another (a Vernaux entry of .gnu.version_r).</summary>
    internal sealed class ElfVersionNeed
    {
        public string File;
        public string Version;
        public ushort Index;
        public bool Weak;
        public int FlagsOffset;
        public List<string> Symbols = new List<string>();
    }

    internal static class ElfVersionNeeds
    {
        private const uint ShtDynsym = 11, ShtVerdef = 0x6ffffffd, ShtVerneed = 0x6ffffffe, ShtVersym = 0x6fffffff;
        private const ushort VerFlgWeak = 0x2;

        /// <summary>
        /// Libraries whose requirement on a newer libstdc++ exists only for a link-time anchor that no code calls:
        /// GCC 13 adds an undefined reference to <c>std::ios_base_library_init()</c> (GLIBCXX_3.4.32).
        /// </summary>
        public static readonly string[] HarmlessSymbols = { "_ZSt21ios_base_library_initv" };

        public static bool IsElf64(byte[] b) =>
            b.Length > 64 && b[0] == 0x7f && b[1] == (byte)'E' && b[2] == (byte)'L' && b[3] == (byte)'F' && b[4] == 2 && b[5] == 1;

        /// <summary>Every version requirement of the library, with the undefined symbols bound to it.</summary>
        public static List<ElfVersionNeed> ReadNeeds(byte[] b)
        {
            var result = new List<ElfVersionNeed>();
            if (!IsElf64(b)) return result;
            var sections = ReadSections(b);
            var verneed = sections.FirstOrDefault(s => s.Type == ShtVerneed);
            if (verneed == null) return result;
            var strtab = sections[(int)verneed.Link];
            long off = verneed.Offset;
            for (uint i = 0; i < verneed.Info; i++)
            {
                ushort cnt = U16(b, off + 2);
                string file = Str(b, strtab.Offset + U32(b, off + 4));
                long aux = off + U32(b, off + 8);
                for (int j = 0; j < cnt; j++)
                {
                    result.Add(new ElfVersionNeed
                    {
                        File = file,
                        Weak = (U16(b, aux + 4) & VerFlgWeak) != 0,
                        FlagsOffset = (int)(aux + 4),
                        Index = (ushort)(U16(b, aux + 6) & 0x7fff),
                        Version = Str(b, strtab.Offset + U32(b, aux + 8)),
                    });
                    aux += U32(b, aux + 12);
                }
                uint next = U32(b, off + 12);
                if (next == 0) break;
                off += next;
            }

            var dynsym = sections.FirstOrDefault(s => s.Type == ShtDynsym);
            var versym = sections.FirstOrDefault(s => s.Type == ShtVersym);
            if (dynsym != null && versym != null)
            {
                var names = sections[(int)dynsym.Link];
                long count = dynsym.Size / 24;
                for (long k = 0; k < count; k++)
                {
                    long sym = dynsym.Offset + k * 24;
                    if (U16(b, sym + 6) != 0) continue; // defined here, not needed from elsewhere
                    ushort index = (ushort)(U16(b, versym.Offset + k * 2) & 0x7fff);
                    var need = result.FirstOrDefault(n => n.Index == index);
                    if (need != null) need.Symbols.Add(Str(b, names.Offset + U32(b, sym)));
                }
            }
            return result;
        }

        /// <summary>The version names a library defines (.gnu.version_d), e.g. GLIBCXX_3.4.30 for libstdc++.</summary>
        public static HashSet<string> ReadDefinitions(byte[] b)
        {
            var result = new HashSet<string>(StringComparer.Ordinal);
            if (!IsElf64(b)) return result;
            var sections = ReadSections(b);
            var verdef = sections.FirstOrDefault(s => s.Type == ShtVerdef);
            if (verdef == null) return result;
            var strtab = sections[(int)verdef.Link];
            long off = verdef.Offset;
            for (uint i = 0; i < verdef.Info; i++)
            {
                long aux = off + U32(b, off + 12);
                result.Add(Str(b, strtab.Offset + U32(b, aux)));
                uint next = U32(b, off + 16);
                if (next == 0) break;
                off += next;
            }
            return result;
        }

        /// <summary>The libstdc++ the dynamic loader would pick on this machine, or null if none is found.</summary>
        public static string FindSystemLibStdCxx()
        {
            var dirs = new List<string>();
            var ld = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ld)) dirs.AddRange(ld.Split(':').Where(d => d.Length > 0));
            dirs.AddRange(new[]
            {
                "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib/aarch64-linux-gnu",
                "/usr/lib64", "/lib64", "/usr/lib", "/lib", "/usr/local/lib64", "/usr/local/lib",
            });
            foreach (var dir in dirs)
            {
                var path = Path.Combine(dir, "libstdc++.so.6");
                if (File.Exists(path)) return path;
            }
            return null;
        }

        /// <summary>
        /// The requirements on libstdc++ that <paramref name="libStdCxxVersions"/> does not satisfy and that are still strong.
        /// </summary>
        public static List<ElfVersionNeed> MissingLibStdCxxNeeds(byte[] library, HashSet<string> libStdCxxVersions) =>
            ReadNeeds(library)
                .Where(n => n.File.StartsWith("libstdc++.so", StringComparison.Ordinal) && !n.Weak && !libStdCxxVersions.Contains(n.Version))
                .ToList();

        /// <summary>True when every symbol behind the requirement is a known link anchor that nothing calls.</summary>
        public static bool IsHarmless(ElfVersionNeed need) =>
            need.Symbols.Count > 0 && need.Symbols.All(s => HarmlessSymbols.Contains(s));

        /// <summary>Marks the requirements weak (VER_FLG_WEAK) in the buffer, so glibc accepts the library without them.</summary>
        public static void MarkWeak(byte[] b, IEnumerable<ElfVersionNeed> needs)
        {
            foreach (var need in needs)
            {
                ushort flags = (ushort)(U16(b, need.FlagsOffset) | VerFlgWeak);
                b[need.FlagsOffset] = (byte)flags;
                b[need.FlagsOffset + 1] = (byte)(flags >> 8);
                need.Weak = true;
            }
        }

        private sealed class Section
        {
            public uint Type, Link, Info;
            public long Offset, Size;
        }

        private static List<Section> ReadSections(byte[] b)
        {
            long shoff = (long)U64(b, 0x28);
            int shentsize = U16(b, 0x3A), shnum = U16(b, 0x3C);
            if (shoff <= 0 || shentsize < 64 || shoff + (long)shentsize * shnum > b.Length)
                throw new InvalidDataException("ELF section header table lies outside the file.");
            var list = new List<Section>(shnum);
            for (int i = 0; i < shnum; i++)
            {
                long h = shoff + (long)i * shentsize;
                list.Add(new Section
                {
                    Type = U32(b, h + 4),
                    Offset = (long)U64(b, h + 24),
                    Size = (long)U64(b, h + 32),
                    Link = U32(b, h + 40),
                    Info = U32(b, h + 44),
                });
            }
            return list;
        }

        private static ushort U16(byte[] b, long o) => BitConverter.ToUInt16(b, checked((int)o));
        private static uint U32(byte[] b, long o) => BitConverter.ToUInt32(b, checked((int)o));
        private static ulong U64(byte[] b, long o) => BitConverter.ToUInt64(b, checked((int)o));

        private static string Str(byte[] b, long o)
        {
            int start = checked((int)o), end = start;
            while (end < b.Length && b[end] != 0) end++;
            return Encoding.ASCII.GetString(b, start, end - start);
        }
    }
}

#if !GENAI_RUNTIME
namespace GenAI.Build
{
    /// <summary>
    /// MSBuild task: in every copy of libLibTorchSharp.so under <see cref="Directory"/>, marks weak the libstdc++
    /// version requirements this machine's libstdc++ lacks, when only a never-called link anchor needs them.
    /// A no-op where libstdc++ is new enough. Writes through a temporary file, so a hard link into the NuGet
    /// cache is never modified.
    /// </summary>
    public sealed class WeakenTorchSharpLibStdCxxNeeds : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public string Directory { get; set; }

        public override bool Execute()
        {
            if (!System.IO.Directory.Exists(Directory)) return true;
            var libstdcxx = ElfVersionNeeds.FindSystemLibStdCxx();
            if (libstdcxx == null) return true; // not a glibc Linux build machine: nothing to adapt
            var provided = ElfVersionNeeds.ReadDefinitions(File.ReadAllBytes(libstdcxx));
            foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "libLibTorchSharp.so", SearchOption.AllDirectories))
            {
                var bytes = File.ReadAllBytes(path);
                var missing = ElfVersionNeeds.MissingLibStdCxxNeeds(bytes, provided);
                if (missing.Count == 0) continue;
                var harmful = missing.Where(n => !ElfVersionNeeds.IsHarmless(n)).ToList();
                if (harmful.Count > 0)
                {
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                        "GenAI: {0} needs {1} from libstdc++, which {2} lacks; TorchSharp will not load here until libstdc++ is upgraded.",
                        path, string.Join(", ", harmful.Select(n => n.Version)), libstdcxx);
                    continue;
                }
                ElfVersionNeeds.MarkWeak(bytes, missing);
                var temp = path + ".genai-tmp";
                File.WriteAllBytes(temp, bytes);
                File.Delete(path); // unlinks only: the NuGet cache's copy stays as it was
                File.Move(temp, path);
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                    "GenAI: marked {0} weak in {1} ({2} is older).", string.Join(", ", missing.Select(n => n.Version)), path, libstdcxx);
            }
            return true;
        }
    }
}
#endif
