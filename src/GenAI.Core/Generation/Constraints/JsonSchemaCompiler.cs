using System.Globalization;
using System.Text.Json;

namespace GenAI.Core.Generation.Constraints;

/// <summary>
/// Compiles a JSON Schema (draft 2020-12 and the drafts OpenAI's strict mode accepts) into the grammar the constraint
/// runs. Covered: <c>type</c> (a name or a list; <c>nullable: true</c> as OpenAPI writes it), <c>enum</c> and
/// <c>const</c> of any JSON value, objects (<c>properties</c> in declared order, <c>required</c>,
/// <c>additionalProperties</c>), arrays (<c>items</c>, <c>minItems</c>, <c>maxItems</c>), strings (<c>pattern</c>,
/// <c>format</c> date / time / date-time / uuid / ipv4, <c>minLength</c>, <c>maxLength</c>), numbers and integers
/// (<c>minimum</c>, <c>maximum</c>, <c>exclusiveMinimum</c>, <c>exclusiveMaximum</c>), <c>anyOf</c>, <c>oneOf</c> of
/// alternatives that cannot overlap, a one-schema <c>allOf</c>, and <c>$ref</c> into the document (<c>#</c>,
/// <c>$defs</c>, <c>definitions</c>, any JSON pointer; recursion included). Annotations (title, description, default,
/// examples, ...) and keywords outside JSON Schema's vocabulary are ignored, as JSON Schema ignores them; every
/// validation keyword not covered is refused with <see cref="JsonSchemaException"/> naming it and its path — a schema
/// is never silently unconstrained. An object with properties is written with exactly those (as OpenAI's strict mode
/// and XGrammar do), whatever <c>additionalProperties</c> allows besides: the output is valid either way.
/// </summary>
internal sealed class JsonSchemaCompiler
{
    /// <summary>Deepest schema nesting compiled (a guard against hostile input).</summary>
    public const int MaxSchemaDepth = 64;

    /// <summary>Most grammar nodes one schema may compile to.</summary>
    public const int MaxNodes = 20_000;

    private static readonly HashSet<string> Annotations =
    [
        "title", "description", "$comment", "examples", "default", "deprecated", "readOnly", "writeOnly", "$schema", "$id",
        "contentEncoding", "contentMediaType", "$vocabulary", "discriminator", "strict",
    ];

    private static readonly HashSet<string> Unsupported =
    [
        "not", "if", "then", "else", "dependentRequired", "dependentSchemas", "dependencies", "patternProperties", "propertyNames",
        "minProperties", "maxProperties", "unevaluatedItems", "contains", "minContains", "maxContains", "multipleOf",
        "prefixItems", "additionalItems", "$dynamicRef", "$recursiveRef", "$anchor", "$dynamicAnchor", "$recursiveAnchor",
        "contentSchema",
    ];

    private static readonly HashSet<string> ObjectKeywords = ["properties", "required", "additionalProperties", "unevaluatedProperties"];
    private static readonly HashSet<string> ArrayKeywords = ["items", "minItems", "maxItems", "uniqueItems"];
    private static readonly HashSet<string> StringKeywords = ["pattern", "format", "minLength", "maxLength"];
    private static readonly HashSet<string> NumberKeywords = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];
    private static readonly string[] TypeNames = ["object", "array", "string", "number", "integer", "boolean", "null"];

    private readonly JsonElement _document;
    private readonly string _documentPath;
    private readonly JsonGrammarOptions _options;
    private readonly Dictionary<string, RefNode> _refs = [];
    private readonly List<SchemaNode> _nodes = [];
    private SchemaNode? _anyValue;

    private JsonSchemaCompiler(JsonElement document, string documentPath, JsonGrammarOptions options)
    {
        _document = document;
        _documentPath = documentPath;
        _options = options;
    }

    /// <summary>
    /// Compiles <paramref name="schema"/> (whose own <c>$ref</c>s resolve within it) into a node graph;
    /// <paramref name="path"/> prefixes every error's path. Throws <see cref="JsonSchemaException"/>.
    /// </summary>
    public static SchemaNode CompileNode(JsonElement schema, string path, JsonGrammarOptions options)
    {
        var compiler = new JsonSchemaCompiler(schema, path, options);
        var root = compiler.Compile(schema, path, 0);
        compiler.Finish();
        return root;
    }

    /// <summary>The grammar of any JSON value (json_object's contents, <c>{}</c> schemas).</summary>
    public static SchemaNode AnyValue(JsonGrammarOptions options)
    {
        var compiler = new JsonSchemaCompiler(default, "", options);
        var node = compiler.AnyValueNode();
        compiler.Finish();
        return node;
    }

    /// <summary>A map of any keys and values: json_object.</summary>
    public static SchemaNode AnyObject(JsonGrammarOptions options)
    {
        var compiler = new JsonSchemaCompiler(default, "", options);
        var node = compiler.Add(new ObjectNode { Values = compiler.AnyValueNode(), Path = "" });
        compiler.Finish();
        return node;
    }

    /// <summary>Computes every node's <see cref="SchemaNode.MinDepth"/> (a fixpoint over recursion).</summary>
    public static void ComputeDepths(IEnumerable<SchemaNode> nodes, JsonGrammarOptions options)
    {
        var all = nodes.ToList();
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (var node in all)
            {
                int depth = node switch
                {
                    StringNode => 0,
                    LiteralNode literal => literal.MinDepth,
                    NumberNode number => NumberFrame.HasValue(number, options) ? 0 : SchemaNode.Infinite,
                    ObjectNode obj => 1 + obj.Properties.Where(p => p.Required).Select(p => p.Value.MinDepth).DefaultIfEmpty(0).Max(),
                    ArrayNode array => array.MinItems == 0 ? 1 : array.Items.MinDepth >= SchemaNode.Infinite ? SchemaNode.Infinite : 1 + array.Items.MinDepth,
                    AnyOfNode anyOf => anyOf.Alternatives.Select(a => a.MinDepth).DefaultIfEmpty(SchemaNode.Infinite).Min(),
                    RefNode reference => reference.Target.MinDepth,
                    _ => SchemaNode.Infinite,
                };
                depth = Math.Min(depth, SchemaNode.Infinite); // 1 + Infinite is still no finite value
                if (depth < node.MinDepth)
                {
                    node.MinDepth = depth;
                    changed = true;
                }
            }
        }
    }

    private T Add<T>(T node) where T : SchemaNode
    {
        if (_nodes.Count >= MaxNodes) throw new JsonSchemaException(_documentPath, $"the schema compiles to more than {MaxNodes} parts");
        _nodes.Add(node);
        return node;
    }

    private void Finish()
    {
        ComputeDepths(_nodes, _options);
        foreach (var node in _nodes.OfType<ObjectNode>()) node.Seal();
    }

    private SchemaNode AnyValueNode()
    {
        if (_anyValue is not null) return _anyValue;
        var any = Add(new AnyOfNode { Path = "(any)" });
        _anyValue = any;
        any.Alternatives.Add(Add(new ObjectNode { Values = any, Path = "(any)" }));
        any.Alternatives.Add(Add(new ArrayNode { Items = any, Path = "(any)" }));
        any.Alternatives.Add(Add(new StringNode { Path = "(any)" }));
        any.Alternatives.Add(Add(new NumberNode { Path = "(any)" }));
        any.Alternatives.Add(Add(new LiteralNode(["true"u8.ToArray(), "false"u8.ToArray(), "null"u8.ToArray()]) { MinDepth = 0, Path = "(any)" }));
        return any;
    }

    private static JsonSchemaException Error(string path, string reason) => new(path, reason);

    private SchemaNode Compile(JsonElement schema, string path, int level)
    {
        if (level > MaxSchemaDepth) throw Error(path, $"the schema nests deeper than {MaxSchemaDepth} levels");
        if (schema.ValueKind == JsonValueKind.True) return AnyValueNode();
        if (schema.ValueKind == JsonValueKind.False) throw Error(path, "the schema false admits no value");
        if (schema.ValueKind != JsonValueKind.Object) throw Error(path, $"a schema must be an object or a boolean, not {Kind(schema)}");

        foreach (var property in schema.EnumerateObject())
        {
            string name = property.Name;
            if (Unsupported.Contains(name)) throw Error(path, $"keyword '{name}' is not supported");
            if (name == "unevaluatedProperties" && property.Value.ValueKind != JsonValueKind.False) throw Error(path, "keyword 'unevaluatedProperties' is supported only as false");
            if (name == "uniqueItems" && property.Value.ValueKind != JsonValueKind.False) throw Error(path, "keyword 'uniqueItems' is supported only as false");
        }

        bool hasEnum = schema.TryGetProperty("enum", out var enumValues);
        bool hasConst = schema.TryGetProperty("const", out var constValue);
        if (hasEnum || hasConst) return CompileLiterals(schema, path, level, hasEnum ? enumValues : null, hasConst ? constValue : null);

        string[] combinators = ["$ref", "anyOf", "oneOf", "allOf"];
        var present = combinators.Where(c => schema.TryGetProperty(c, out _)).ToList();
        if (present.Count > 0)
        {
            if (present.Count > 1) throw Error(path, $"'{present[0]}' beside '{present[1]}' is not supported");
            var siblings = schema.EnumerateObject().Select(p => p.Name)
                .Where(n => n != present[0] && !Annotations.Contains(n) && n is not ("$defs" or "definitions") && IsVocabulary(n)).ToList();
            if (siblings.Count > 0) throw Error(path, $"'{present[0]}' beside '{siblings[0]}' is not supported; move '{siblings[0]}' into the referenced or alternative schemas");
            return present[0] switch
            {
                "$ref" => CompileRef(schema.GetProperty("$ref"), path),
                "allOf" => CompileAllOf(schema.GetProperty("allOf"), path + ".allOf", level),
                _ => CompileAnyOf(schema.GetProperty(present[0]), path + "." + present[0], level, oneOf: present[0] == "oneOf"),
            };
        }

        var types = Types(schema, path);
        var nodes = types.Select(t => CompileType(schema, t, path, level)).ToList();
        if (nodes.Count == 1) return nodes[0];
        var anyOf = Add(new AnyOfNode { Path = path });
        anyOf.Alternatives.AddRange(nodes);
        return anyOf;
    }

    private static bool IsVocabulary(string keyword) =>
        keyword is "type" or "enum" or "const" or "nullable" || ObjectKeywords.Contains(keyword) || ArrayKeywords.Contains(keyword)
        || StringKeywords.Contains(keyword) || NumberKeywords.Contains(keyword);

    /// <summary>The schema's types: <c>type</c> (plus null for <c>nullable: true</c>), or those its keywords imply, or all.</summary>
    private static List<string> Types(JsonElement schema, string path)
    {
        var types = new List<string>();
        if (schema.TryGetProperty("type", out var type))
        {
            if (type.ValueKind == JsonValueKind.String) types.Add(type.GetString()!);
            else if (type.ValueKind == JsonValueKind.Array && type.GetArrayLength() > 0 && type.EnumerateArray().All(t => t.ValueKind == JsonValueKind.String))
            {
                types.AddRange(type.EnumerateArray().Select(t => t.GetString()!));
            }
            else throw Error(path + ".type", "type must be a type name or a non-empty list of them");
            foreach (string t in types)
            {
                if (!TypeNames.Contains(t)) throw Error(path + ".type", $"unknown type '{t}' (expected one of {string.Join(", ", TypeNames)})");
            }
            if (types.Distinct().Count() != types.Count) throw Error(path + ".type", "type lists a type twice");
        }
        else
        {
            // No type: the keywords say which types they constrain; with none, any JSON value.
            var names = schema.EnumerateObject().Select(p => p.Name).ToList();
            if (names.Any(ObjectKeywords.Contains)) types.Add("object");
            if (names.Any(ArrayKeywords.Contains)) types.Add("array");
            if (names.Any(StringKeywords.Contains)) types.Add("string");
            if (names.Any(NumberKeywords.Contains)) types.Add("number");
            if (types.Count == 0) types.AddRange(["object", "array", "string", "number", "boolean", "null"]);
        }
        if (schema.TryGetProperty("nullable", out var nullable))
        {
            if (nullable.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw Error(path + ".nullable", "nullable must be true or false");
            if (nullable.ValueKind == JsonValueKind.True && !types.Contains("null")) types.Add("null");
        }
        // integer is a subset of number: listing both means number.
        if (types.Contains("number")) types.Remove("integer");
        return types;
    }

    private SchemaNode CompileType(JsonElement schema, string type, string path, int level) => type switch
    {
        "object" => CompileObject(schema, path, level),
        "array" => CompileArray(schema, path, level),
        "string" => CompileString(schema, path),
        "number" => CompileNumber(schema, path, integer: false),
        "integer" => CompileNumber(schema, path, integer: true),
        "boolean" => Add(new LiteralNode(["true"u8.ToArray(), "false"u8.ToArray()]) { MinDepth = 0, Path = path }),
        _ => Add(new LiteralNode(["null"u8.ToArray()]) { MinDepth = 0, Path = path }),
    };

    private SchemaNode CompileObject(JsonElement schema, string path, int level)
    {
        var node = Add(new ObjectNode { Path = path });
        var required = new List<string>();
        if (schema.TryGetProperty("required", out var requiredElement))
        {
            if (requiredElement.ValueKind != JsonValueKind.Array || requiredElement.EnumerateArray().Any(r => r.ValueKind != JsonValueKind.String))
            {
                throw Error(path + ".required", "required must be a list of property names");
            }
            required.AddRange(requiredElement.EnumerateArray().Select(r => r.GetString()!));
            if (required.Distinct().Count() != required.Count) throw Error(path + ".required", "required names a property twice");
        }
        JsonElement? additional = schema.TryGetProperty("additionalProperties", out var a) ? a : null;
        if (additional is { ValueKind: not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Object) })
        {
            throw Error(path + ".additionalProperties", "additionalProperties must be a boolean or a schema");
        }
        bool closed = additional?.ValueKind == JsonValueKind.False;

        var declared = new List<string>();
        if (schema.TryGetProperty("properties", out var properties))
        {
            if (properties.ValueKind != JsonValueKind.Object) throw Error(path + ".properties", "properties must be an object of schemas");
            foreach (var property in properties.EnumerateObject())
            {
                if (declared.Contains(property.Name)) throw Error(path + ".properties", $"property '{property.Name}' is declared twice");
                declared.Add(property.Name);
                var value = Compile(property.Value, path + ".properties." + property.Name, level + 1);
                node.Properties.Add(new PropertyNode(property.Name, value, required.Contains(property.Name)));
            }
        }
        foreach (string name in required.Where(r => !declared.Contains(r)))
        {
            // A required name without a declared schema takes additionalProperties' (any value when that is true or absent).
            if (closed) throw Error(path + ".required", $"required property '{name}' is not in properties and additionalProperties is false");
            var value = additional is { ValueKind: JsonValueKind.Object } schemaOfRest
                ? Compile(schemaOfRest, path + ".additionalProperties", level + 1)
                : AnyValueNode();
            node.Properties.Add(new PropertyNode(name, value, Required: true));
        }
        if (node.Properties.Count == 0 && !closed)
        {
            // No properties: a map whose values follow additionalProperties.
            node.Values = additional is { ValueKind: JsonValueKind.Object } values ? Compile(values, path + ".additionalProperties", level + 1) : AnyValueNode();
        }
        return node;
    }

    private SchemaNode CompileArray(JsonElement schema, string path, int level)
    {
        var node = Add(new ArrayNode { Path = path });
        int minItems = Count(schema, "minItems", path) ?? 0;
        int? maxItems = Count(schema, "maxItems", path);
        if (maxItems < minItems) throw Error(path, $"minItems ({minItems}) exceeds maxItems ({maxItems})");
        node.MinItems = minItems;
        node.MaxItems = maxItems ?? ArrayNode.Unbounded;
        if (schema.TryGetProperty("items", out var items))
        {
            if (items.ValueKind == JsonValueKind.Array) throw Error(path + ".items", "items as a list (tuple validation) is not supported");
            if (items.ValueKind == JsonValueKind.False)
            {
                if (minItems > 0) throw Error(path, "items is false but minItems is above 0: no value fits");
                node.MaxItems = 0;
                node.Items = AnyValueNode();
            }
            else
            {
                node.Items = Compile(items, path + ".items", level + 1);
            }
        }
        else
        {
            node.Items = AnyValueNode();
        }
        return node;
    }

    private SchemaNode CompileString(JsonElement schema, string path)
    {
        string? pattern = null, source = null;
        if (schema.TryGetProperty("pattern", out var p))
        {
            if (p.ValueKind != JsonValueKind.String) throw Error(path + ".pattern", "pattern must be a string");
            (pattern, source) = (p.GetString()!, "pattern");
        }
        if (schema.TryGetProperty("format", out var f))
        {
            if (f.ValueKind != JsonValueKind.String) throw Error(path + ".format", "format must be a string");
            string format = f.GetString()!;
            if (!StringFormats.Patterns.TryGetValue(format, out var formatPattern))
            {
                throw Error(path + ".format", $"format '{format}' is not supported (supported: {string.Join(", ", StringFormats.Patterns.Keys)})");
            }
            if (pattern is not null) throw Error(path, "pattern together with format is not supported");
            (pattern, source) = (formatPattern, "format");
        }
        int? minLength = Count(schema, "minLength", path), maxLength = Count(schema, "maxLength", path);
        if (minLength is not null || maxLength is not null)
        {
            if (pattern is not null) throw Error(path, $"minLength/maxLength together with {source} is not supported");
            if (maxLength < minLength) throw Error(path, $"minLength ({minLength}) exceeds maxLength ({maxLength})");
            if (minLength > 1000 || maxLength > 1000) throw Error(path, "minLength and maxLength above 1000 are not supported");
            (pattern, source) = ($"^[\\s\\S]{{{minLength ?? 0},{(maxLength is int max ? max.ToString(CultureInfo.InvariantCulture) : "")}}}$", "minLength/maxLength");
        }
        if (pattern is null) return Add(new StringNode { Path = path });
        try
        {
            return Add(new StringNode { Pattern = PatternCompiler.Compile(pattern), Path = path });
        }
        catch (PatternException e)
        {
            throw Error(path + "." + (source == "format" ? "format" : source == "pattern" ? "pattern" : "maxLength"), e.Message);
        }
    }

    private SchemaNode CompileNumber(JsonElement schema, string path, bool integer)
    {
        var (minimum, minExclusive) = Bound(schema, "minimum", "exclusiveMinimum", path, lower: true);
        var (maximum, maxExclusive) = Bound(schema, "maximum", "exclusiveMaximum", path, lower: false);
        return Add(new NumberNode
        {
            Integer = integer, Minimum = minimum, MinimumExclusive = minExclusive, Maximum = maximum, MaximumExclusive = maxExclusive, Path = path,
        });
    }

    /// <summary>
    /// A bound from <c>minimum</c>/<c>exclusiveMinimum</c> (or the maximum pair): the tighter of the two, the draft-4
    /// boolean form of the exclusive keyword included. Bounds beyond the digits the grammar writes are clamped (a
    /// minimum above them leaves no value, which the compiler then reports).
    /// </summary>
    private static (decimal? Value, bool Exclusive) Bound(JsonElement schema, string inclusiveName, string exclusiveName, string path, bool lower)
    {
        decimal? inclusive = null, exclusive = null;
        bool draft4Exclusive = false;
        if (schema.TryGetProperty(inclusiveName, out var i)) inclusive = Decimal(i, path + "." + inclusiveName, lower);
        if (schema.TryGetProperty(exclusiveName, out var e))
        {
            if (e.ValueKind is JsonValueKind.True or JsonValueKind.False) draft4Exclusive = e.ValueKind == JsonValueKind.True;
            else exclusive = Decimal(e, path + "." + exclusiveName, lower);
        }
        if (draft4Exclusive)
        {
            if (inclusive is null) throw Error(path + "." + exclusiveName, $"{exclusiveName}: true needs {inclusiveName}");
            return (inclusive, true);
        }
        if (exclusive is null) return (inclusive, false);
        if (inclusive is null) return (exclusive, true);
        bool exclusiveIsTighter = lower ? exclusive >= inclusive : exclusive <= inclusive;
        return exclusiveIsTighter ? (exclusive, true) : (inclusive, false);
    }

    private static decimal? Decimal(JsonElement value, string path, bool lower)
    {
        if (value.ValueKind != JsonValueKind.Number) throw Error(path, "must be a number");
        const decimal Beyond = 1e20m;
        // Beyond every value the grammar writes: a lower bound far below (an upper bound far above) bounds nothing; the
        // other way it excludes everything, which Beyond keeps.
        if (!decimal.TryParse(value.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture, out decimal d)) d = value.GetRawText().StartsWith('-') ? -2 * Beyond : 2 * Beyond;
        if (d > Beyond) return lower ? Beyond : null;
        if (d < -Beyond) return lower ? null : -Beyond;
        return d;
    }

    private static int? Count(JsonElement schema, string name, string path)
    {
        if (!schema.TryGetProperty(name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out decimal d) || d < 0 || d != Math.Floor(d))
        {
            throw Error(path + "." + name, $"{name} must be a non-negative integer");
        }
        return d > int.MaxValue - 1 ? int.MaxValue - 1 : (int)d;
    }

    private SchemaNode CompileLiterals(JsonElement schema, string path, int level, JsonElement? enumValues, JsonElement? constValue)
    {
        var values = new List<JsonElement>();
        if (enumValues is { } list)
        {
            if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0) throw Error(path + ".enum", "enum must be a non-empty list");
            values.AddRange(list.EnumerateArray());
        }
        if (constValue is { } c)
        {
            // const and enum together: the const, if enum has it.
            if (enumValues is not null && !values.Any(v => JsonElement.DeepEquals(v, c))) throw Error(path, "const is not among the enum values");
            values = [c];
        }
        // The rest of the schema still applies: only values that satisfy it are written.
        var rest = schema.EnumerateObject().Where(p => p.Name is not ("enum" or "const")).ToList();
        var encoded = values.Select(JsonText.Encode).Distinct(ByteArrayComparer.Instance).ToList();
        if (rest.Any(p => IsVocabulary(p.Name) || p.Name is "$ref" or "anyOf" or "oneOf" or "allOf"))
        {
            using var restDocument = JsonDocument.Parse("{" + string.Join(",", rest.Select(p => JsonSerializer.Serialize(p.Name) + ":" + p.Value.GetRawText())) + "}");
            var compiler = new JsonSchemaCompiler(_document, _documentPath, _options);
            var restNode = compiler.Compile(restDocument.RootElement, path, level);
            compiler.Finish();
            var lenient = _options with { MaxIntegerDigits = 15, MaxFractionDigits = 12, MaxExponentDigits = 3 };
            encoded = encoded.Where(bytes => StateSet.Matches(new Grammar(restNode, lenient), bytes)).ToList();
            if (encoded.Count == 0) throw Error(path, (constValue is null ? "no enum value" : "the const value") + " satisfies the rest of the schema");
        }
        int depth = values.Where(v => encoded.Any(e => e.AsSpan().SequenceEqual(JsonText.Encode(v)))).Select(Nesting).DefaultIfEmpty(0).Max();
        return Add(new LiteralNode(encoded) { MinDepth = depth, Path = path });
    }

    private static int Nesting(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => 1 + value.EnumerateObject().Select(p => Nesting(p.Value)).DefaultIfEmpty(0).Max(),
        JsonValueKind.Array => 1 + value.EnumerateArray().Select(Nesting).DefaultIfEmpty(0).Max(),
        _ => 0,
    };

    private SchemaNode CompileAnyOf(JsonElement alternatives, string path, int level, bool oneOf)
    {
        string keyword = oneOf ? "oneOf" : "anyOf";
        if (alternatives.ValueKind != JsonValueKind.Array || alternatives.GetArrayLength() == 0) throw Error(path, $"{keyword} must be a non-empty list of schemas");
        var node = Add(new AnyOfNode { Path = path });
        int index = 0;
        foreach (var alternative in alternatives.EnumerateArray()) node.Alternatives.Add(Compile(alternative, $"{path}[{index++}]", level + 1));
        if (oneOf)
        {
            // oneOf is anyOf when no value can match two alternatives; here, when their first bytes differ (different types).
            var seen = new HashSet<int>();
            for (int i = 0; i < node.Alternatives.Count; i++)
            {
                var first = FirstBytes(node.Alternatives[i], []);
                if (first.Any(b => !seen.Add(b)))
                {
                    throw Error($"{path}[{i}]", "oneOf is supported only when its alternatives are of different types (use anyOf when a value may match several)");
                }
            }
        }
        return node;
    }

    private SchemaNode CompileAllOf(JsonElement schemas, string path, int level)
    {
        if (schemas.ValueKind != JsonValueKind.Array || schemas.GetArrayLength() == 0) throw Error(path, "allOf must be a non-empty list of schemas");
        if (schemas.GetArrayLength() > 1) throw Error(path, "allOf of more than one schema is not supported");
        return Compile(schemas[0], path + "[0]", level + 1);
    }

    private SchemaNode CompileRef(JsonElement reference, string path)
    {
        if (reference.ValueKind != JsonValueKind.String) throw Error(path + ".$ref", "$ref must be a string");
        string pointer = reference.GetString()!;
        if (_refs.TryGetValue(pointer, out var known)) return known;
        if (!pointer.StartsWith('#')) throw Error(path + ".$ref", $"$ref '{pointer}' is not supported: only references into this schema ('#', '#/$defs/name')");
        var target = _document;
        string targetPath = _documentPath;
        string fragment = Uri.UnescapeDataString(pointer[1..]);
        if (fragment.Length > 0)
        {
            if (!fragment.StartsWith('/')) throw Error(path + ".$ref", $"$ref '{pointer}' is not a JSON pointer ('#/$defs/name')");
            foreach (string raw in fragment[1..].Split('/'))
            {
                string segment = raw.Replace("~1", "/").Replace("~0", "~");
                if (target.ValueKind == JsonValueKind.Object && target.TryGetProperty(segment, out var child)) target = child;
                else if (target.ValueKind == JsonValueKind.Array && int.TryParse(segment, out int i) && i >= 0 && i < target.GetArrayLength()) target = target[i];
                else throw Error(path + ".$ref", $"$ref '{pointer}' names nothing in the schema");
                targetPath += target.ValueKind == JsonValueKind.Array ? "." + segment : "." + segment;
            }
        }
        var node = Add(new RefNode { Path = targetPath });
        _refs[pointer] = node;
        node.Target = Compile(target, targetPath, 1);
        return node;
    }

    /// <summary>The bytes a value of <paramref name="node"/> can start with.</summary>
    private static HashSet<int> FirstBytes(SchemaNode node, HashSet<SchemaNode> visiting)
    {
        var bytes = new HashSet<int>();
        if (!visiting.Add(node)) return bytes;
        switch (node)
        {
            case ObjectNode: bytes.Add('{'); break;
            case ArrayNode: bytes.Add('['); break;
            case StringNode: bytes.Add('"'); break;
            case NumberNode: bytes.UnionWith("-0123456789".Select(c => (int)c)); break;
            case LiteralNode literal:
                for (int b = 0; b < 256; b++) if (literal.Trie.Child(0, b) >= 0) bytes.Add(b);
                break;
            case AnyOfNode anyOf:
                foreach (var alternative in anyOf.Alternatives) bytes.UnionWith(FirstBytes(alternative, visiting));
                break;
            case RefNode reference:
                bytes.UnionWith(FirstBytes(reference.Target, visiting));
                break;
        }
        return bytes;
    }

    private static string Kind(JsonElement e) => e.ValueKind.ToString().ToLowerInvariant();

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(obj);
            return hash.ToHashCode();
        }
    }
}
