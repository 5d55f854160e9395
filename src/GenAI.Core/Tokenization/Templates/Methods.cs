using System.Text;

namespace GenAI.Core.Tokenization.Templates;

/// <summary>
/// The Python methods templates call on values: <c>str</c> methods (strip, split, startswith, replace, format ...),
/// <c>dict.get/items/keys/values</c>, <c>list.index/count</c>. Methods that would change a list or dict are refused
/// before they get here (transformers renders in an immutable sandbox); Python methods not implemented fail naming
/// themselves.
/// </summary>
internal static class Methods
{
    public static object? Call(object target, string name, Arguments args) => target switch
    {
        string s => StringMethod(s, name, args),
        IDictionary<string, object?> d => DictMethod(d, name, args),
        IList<object?> l => ListMethod(l, name, args),
        _ => throw new TemplateException($"'{Values.TypeName(target)}' object has no method '{name}'"),
    };

    private static object? DictMethod(IDictionary<string, object?> d, string name, Arguments args)
    {
        switch (name)
        {
            case "get":
            {
                var a = args.Bind("get", ["key", "default"], 1, [null]);
                return a[0] is string key && d.TryGetValue(key, out var value) ? value : a[1];
            }
            case "items":
                args.Bind("items", []);
                return new DictView("dict_items", d.Select(kv => (object?)new PyTuple([kv.Key, kv.Value])).ToList());
            case "keys":
                args.Bind("keys", []);
                return new DictView("dict_keys", d.Keys.Cast<object?>().ToList());
            case "values":
                args.Bind("values", []);
                return new DictView("dict_values", d.Values.ToList());
            case "copy":
                args.Bind("copy", []);
                return Values.ToDict(d);
            default:
                throw new TemplateException($"unsupported dict method '{name}'");
        }
    }

    private static object? ListMethod(IList<object?> l, string name, Arguments args)
    {
        switch (name)
        {
            case "count":
            {
                var a = args.Bind("count", ["value"], 1);
                return (long)l.Count(x => Values.Equal(x, a[0]));
            }
            case "index":
            {
                var a = args.Bind("index", ["value", "start", "stop"], 1, [0L, (long)l.Count]);
                long start = Clamp(Values.ToLong(a[1], "start"), l.Count), stop = Clamp(Values.ToLong(a[2], "stop"), l.Count);
                for (long i = start; i < stop; i++)
                {
                    if (Values.Equal(l[(int)i], a[0])) return i;
                }
                throw new TemplateException($"{PythonText.Repr(a[0])} is not in list");
            }
            case "copy":
                args.Bind("copy", []);
                return l.ToList();
            default:
                throw new TemplateException($"unsupported list method '{name}'");
        }
    }

    private static long Clamp(long index, int length) => index < 0 ? Math.Max(0, index + length) : Math.Min(index, length);

    private static string Text(object? value, string function) => value switch
    {
        string s => s,
        Undefined u => throw u.Fail(),
        _ => throw new TemplateException($"{function}() argument must be str, not {Values.TypeName(value)}"),
    };

    private static string? Chars(object? value, string function) => value is null ? null : Text(value, function);

    private static object? StringMethod(string s, string name, Arguments args)
    {
        switch (name)
        {
            case "strip":
                return Strip(s, Chars(args.Bind(name, ["chars"], 0, [null])[0], name), left: true, right: true);
            case "lstrip":
                return Strip(s, Chars(args.Bind(name, ["chars"], 0, [null])[0], name), left: true, right: false);
            case "rstrip":
                return Strip(s, Chars(args.Bind(name, ["chars"], 0, [null])[0], name), left: false, right: true);
            case "split" or "rsplit":
            {
                var a = args.Bind(name, ["sep", "maxsplit"], 0, [null, -1L]);
                var parts = Split(s, Chars(a[0], name), Values.ToLong(a[1], "maxsplit"), fromRight: name == "rsplit");
                return parts.Select(p => (object?)p).ToList();
            }
            case "splitlines":
                return PythonText.SplitLines(s, Values.Truthy(args.Bind(name, ["keepends"], 0, [false])[0])).Select(p => (object?)p).ToList();
            case "startswith" or "endswith":
            {
                var a = args.Bind(name, ["prefix", "start", "end"], 1, [null, null]);
                string part = a[1] is null && a[2] is null ? s : (string)Values.GetItem(s, new Values.SliceKey(a[1], a[2], null))!;
                IEnumerable<object?> options = a[0] is PyTuple t ? t : [a[0]];
                return options.Any(o => name == "startswith"
                    ? part.StartsWith(Text(o, name), StringComparison.Ordinal)
                    : part.EndsWith(Text(o, name), StringComparison.Ordinal));
            }
            case "replace":
            {
                var a = args.Bind(name, ["old", "new", "count"], 2, [-1L]);
                return Replace(s, Text(a[0], name), Text(a[1], name), Values.ToLong(a[2], "count"));
            }
            case "upper": args.Bind(name, []); return PythonText.Upper(s);
            case "lower" or "casefold": args.Bind(name, []); return PythonText.Lower(s);
            case "title": args.Bind(name, []); return PythonText.Title(s);
            case "capitalize": args.Bind(name, []); return PythonText.Capitalize(s);
            case "swapcase":
                args.Bind(name, []);
                return string.Concat(s.Select(c => char.IsUpper(c) ? PythonText.Lower(c.ToString()) : PythonText.Upper(c.ToString())));
            case "find" or "rfind" or "index" or "rindex" or "count":
            {
                var a = args.Bind(name, ["sub", "start", "end"], 1, [null, null]);
                return Find(s, Text(a[0], name), a[1], a[2], name);
            }
            case "join":
            {
                var items = Values.Iterate(args.Bind(name, ["iterable"], 1)[0]).ToList();
                for (int i = 0; i < items.Count; i++)
                {
                    if (items[i] is not string) throw new TemplateException($"sequence item {i}: expected str instance, {Values.TypeName(items[i])} found");
                }
                return Join(s, items.Cast<string>().ToList());
            }
            case "center" or "ljust" or "rjust":
            {
                var a = args.Bind(name, ["width", "fillchar"], 1, [" "]);
                string fill = Text(a[1], name);
                if (PythonText.Length(fill) != 1) throw new TemplateException("The fill character must be exactly one character long");
                return Pad(s, Values.ToLong(a[0], "width"), fill, name switch { "center" => '^', "ljust" => '<', _ => '>' });
            }
            case "zfill":
            {
                long width = Values.ToLong(args.Bind(name, ["width"], 1)[0], "width");
                JinjaTemplate.CheckLength(width, "a zfill width");
                int pad = (int)width - PythonText.Length(s);
                if (pad <= 0) return s;
                int sign = s.Length > 0 && s[0] is '+' or '-' ? 1 : 0;
                return s[..sign] + new string('0', pad) + s[sign..];
            }
            case "partition" or "rpartition":
            {
                string sep = Text(args.Bind(name, ["sep"], 1)[0], name);
                if (sep.Length == 0) throw new TemplateException("empty separator");
                int at = name == "partition" ? s.IndexOf(sep, StringComparison.Ordinal) : s.LastIndexOf(sep, StringComparison.Ordinal);
                if (at < 0) return name == "partition" ? new PyTuple([s, "", ""]) : new PyTuple(["", "", s]);
                return new PyTuple([s[..at], sep, s[(at + sep.Length)..]]);
            }
            case "removeprefix":
            {
                string prefix = Text(args.Bind(name, ["prefix"], 1)[0], name);
                return s.StartsWith(prefix, StringComparison.Ordinal) ? s[prefix.Length..] : s;
            }
            case "removesuffix":
            {
                string suffix = Text(args.Bind(name, ["suffix"], 1)[0], name);
                return suffix.Length > 0 && s.EndsWith(suffix, StringComparison.Ordinal) ? s[..^suffix.Length] : s;
            }
            case "isspace": args.Bind(name, []); return s.Length > 0 && s.All(PythonText.IsSpace);
            case "isdigit" or "isdecimal" or "isnumeric": args.Bind(name, []); return s.Length > 0 && s.All(char.IsDigit);
            case "isalpha": args.Bind(name, []); return s.Length > 0 && s.All(char.IsLetter);
            case "isalnum": args.Bind(name, []); return s.Length > 0 && s.All(char.IsLetterOrDigit);
            case "isascii": args.Bind(name, []); return s.All(char.IsAscii);
            case "islower": args.Bind(name, []); return s.Any(char.IsLower) && !s.Any(char.IsUpper);
            case "isupper": args.Bind(name, []); return s.Any(char.IsUpper) && !s.Any(char.IsLower);
            case "format":
                return StringFormat.Apply(s, args);
            default:
                throw new TemplateException($"unsupported string method '{name}'");
        }
    }

    private static string Strip(string s, string? chars, bool left, bool right)
    {
        char[] set = chars?.ToCharArray() ?? PythonText.WhitespaceChars;
        if (left) s = s.TrimStart(set);
        if (right) s = s.TrimEnd(set);
        return s;
    }

    // Python's str.split / rsplit: without a separator, runs of whitespace split and ends are ignored.
    private static List<string> Split(string s, string? sep, long maxSplit, bool fromRight)
    {
        if (maxSplit < 0) maxSplit = long.MaxValue;
        var parts = new List<string>();
        if (sep is null)
        {
            if (!fromRight)
            {
                int i = 0;
                while (true)
                {
                    while (i < s.Length && PythonText.IsSpace(s[i])) i++;
                    if (i >= s.Length) break;
                    if (parts.Count == maxSplit)
                    {
                        parts.Add(s[i..]);
                        break;
                    }
                    int j = i;
                    while (j < s.Length && !PythonText.IsSpace(s[j])) j++;
                    parts.Add(s[i..j]);
                    i = j;
                }
                return parts;
            }
            int end = s.Length;
            while (true)
            {
                while (end > 0 && PythonText.IsSpace(s[end - 1])) end--;
                if (end <= 0) break;
                if (parts.Count == maxSplit)
                {
                    parts.Add(s[..end]);
                    break;
                }
                int start = end;
                while (start > 0 && !PythonText.IsSpace(s[start - 1])) start--;
                parts.Add(s[start..end]);
                end = start;
            }
            parts.Reverse();
            return parts;
        }
        if (sep.Length == 0) throw new TemplateException("empty separator");
        if (!fromRight)
        {
            int from = 0;
            while (parts.Count < maxSplit)
            {
                int at = s.IndexOf(sep, from, StringComparison.Ordinal);
                if (at < 0) break;
                parts.Add(s[from..at]);
                from = at + sep.Length;
            }
            parts.Add(s[from..]);
            return parts;
        }
        int to = s.Length;
        while (parts.Count < maxSplit && to >= sep.Length)
        {
            int at = s.LastIndexOf(sep, to - 1, to, StringComparison.Ordinal);
            if (at < 0) break;
            parts.Add(s[(at + sep.Length)..to]);
            to = at;
        }
        parts.Add(s[..to]);
        parts.Reverse();
        return parts;
    }

    private static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0) count = long.MaxValue;
        if (old.Length == 0)
        {
            // Python inserts the replacement before every character and at the end.
            var points = PythonText.CodePoints(s);
            JinjaTemplate.CheckLength(s.Length + (points.Length + 1L) * replacement.Length, "a replaced string");
            var b = new StringBuilder();
            long done = 0;
            for (int i = 0; i <= points.Length; i++)
            {
                if (done < count)
                {
                    b.Append(replacement);
                    done++;
                }
                if (i < points.Length) b.Append(PythonText.FromCodePoints([points[i]]));
            }
            return b.ToString();
        }
        var result = new StringBuilder();
        int from = 0;
        for (long n = 0; n < count; n++)
        {
            int at = s.IndexOf(old, from, StringComparison.Ordinal);
            if (at < 0) break;
            result.Append(s, from, at - from).Append(replacement);
            from = at + old.Length;
            JinjaTemplate.CheckLength((long)result.Length + s.Length - from, "a replaced string");
        }
        return result.Append(s, from, s.Length - from).ToString();
    }

    // find / rfind / index / rindex / count, with Python's code-point positions and start/end slicing.
    private static object Find(string s, string sub, object? start, object? end, string name)
    {
        bool astral = PythonText.HasSurrogates(s) || PythonText.HasSurrogates(sub);
        int[] hay = astral ? PythonText.CodePoints(s) : s.Select(c => (int)c).ToArray();
        int[] needle = astral ? PythonText.CodePoints(sub) : sub.Select(c => (int)c).ToArray();
        long lo = start is null ? 0 : Clamp(Values.ToLong(start, "start"), hay.Length);
        long hi = end is null ? hay.Length : Clamp(Values.ToLong(end, "end"), hay.Length);
        bool At(long i)
        {
            for (int k = 0; k < needle.Length; k++)
            {
                if (hay[i + k] != needle[k]) return false;
            }
            return true;
        }
        if (name == "count")
        {
            if (lo > hi) return 0L;
            if (needle.Length == 0) return hi - lo + 1;
            long n = 0;
            for (long i = lo; i + needle.Length <= hi;)
            {
                if (At(i))
                {
                    n++;
                    i += needle.Length;
                }
                else
                {
                    i++;
                }
            }
            return n;
        }
        long found = -1;
        if (name is "find" or "index")
        {
            for (long i = lo; i + needle.Length <= hi; i++)
            {
                if (At(i))
                {
                    found = i;
                    break;
                }
            }
        }
        else
        {
            for (long i = hi - needle.Length; i >= lo; i--)
            {
                if (At(i))
                {
                    found = i;
                    break;
                }
            }
        }
        if (found < 0 && name is "index" or "rindex") throw new TemplateException("substring not found");
        return found;
    }

    /// <summary>Python's <c>separator.join(items)</c>, within the template's length limit.</summary>
    public static string Join(string separator, IReadOnlyList<string> items)
    {
        JinjaTemplate.CheckLength(items.Sum(i => (long)i.Length) + (long)separator.Length * Math.Max(0, items.Count - 1), "a joined string");
        return string.Join(separator, items);
    }

    /// <summary>Python's alignment of <paramref name="s"/> in <paramref name="width"/> code points.</summary>
    public static string Pad(string s, long width, string fill, char align)
    {
        long excess = width - PythonText.Length(s);
        if (excess <= 0) return s;
        JinjaTemplate.CheckLength(width, "a padding width");
        int margin = (int)excess;
        int left = align switch
        {
            '<' => 0,
            '>' => margin,
            _ => margin / 2 + (margin & (int)(width & 1) & 1), // str.center's rounding
        };
        return string.Concat(Enumerable.Repeat(fill, left)) + s + string.Concat(Enumerable.Repeat(fill, margin - left));
    }
}
