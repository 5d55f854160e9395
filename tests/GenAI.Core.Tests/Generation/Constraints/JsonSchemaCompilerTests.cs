using GenAI.Core.Generation.Constraints;

namespace GenAI.Core.Tests.Generation.Constraints;

/// <summary>What the compiler refuses, and how it names the place: never a silently unconstrained schema.</summary>
public sealed class JsonSchemaCompilerTests
{
    private const string Root = "response_format.json_schema.schema";

    private static JsonSchemaException Refused(string schema) =>
        Assert.Throws<JsonSchemaException>(() => JsonConstraint.FromSchema(schema, Root));

    [Theory]
    [InlineData("""{"type": "object", "properties": {"age": {"type": "integer", "multipleOf": 5}}}""", Root + ".properties.age", "keyword 'multipleOf' is not supported")]
    [InlineData("""{"type": "object", "patternProperties": {"^x": {}}}""", Root, "keyword 'patternProperties' is not supported")]
    [InlineData("""{"type": "array", "items": {"type": "string"}, "uniqueItems": true}""", Root, "keyword 'uniqueItems' is supported only as false")]
    [InlineData("""{"not": {"type": "string"}}""", Root, "keyword 'not' is not supported")]
    [InlineData("""{"type": "array", "prefixItems": [{"type": "string"}]}""", Root, "keyword 'prefixItems' is not supported")]
    [InlineData("""{"anyOf": [{"type": "string"}, {"type": "object", "minProperties": 1}]}""", Root + ".anyOf[1]", "keyword 'minProperties' is not supported")]
    [InlineData("""{"type": "strin"}""", Root + ".type", "unknown type 'strin'")]
    [InlineData("""{"type": "string", "format": "email"}""", Root + ".format", "format 'email' is not supported")]
    [InlineData("""{"type": "string", "pattern": "(a)\\1"}""", Root + ".pattern", "backreferences are not supported")]
    [InlineData("""{"type": "string", "pattern": "(?=a)b"}""", Root + ".pattern", "lookaround")]
    [InlineData("""{"$ref": "#/$defs/missing"}""", Root + ".$ref", "names nothing")]
    [InlineData("""{"$ref": "https://example.com/schema.json"}""", Root + ".$ref", "only references into this schema")]
    [InlineData("""{"type": "integer", "minimum": 10, "maximum": 5}""", Root, "admits no finite JSON value")]
    [InlineData("""{"type": "array", "minItems": 3, "maxItems": 2}""", Root, "minItems (3) exceeds maxItems (2)")]
    [InlineData("""{"type": "object", "properties": {"self": {"$ref": "#"}}, "required": ["self"]}""", Root, "admits no finite JSON value")]
    [InlineData("""{"enum": []}""", Root + ".enum", "non-empty list")]
    [InlineData("""{"type": "integer", "enum": ["a", "b"]}""", Root, "no enum value satisfies")]
    [InlineData("""{"oneOf": [{"type": "string"}, {"type": "string", "pattern": "a"}]}""", Root + ".oneOf[1]", "different types")]
    [InlineData("""{"allOf": [{"type": "string"}, {"minLength": 1}]}""", Root + ".allOf", "more than one schema")]
    [InlineData("""{"type": "object", "required": ["x"], "additionalProperties": false}""", Root + ".required", "not in properties")]
    [InlineData("""{"$ref": "#/$defs/a", "type": "object", "$defs": {"a": {}}}""", Root, "'$ref' beside 'type'")]
    [InlineData("""false""", Root, "admits no value")]
    [InlineData("""{"type": "object",""", Root, "not valid JSON")]
    public void UnsupportedOrInvalidSchemasAreRefusedWithTheirPath(string schema, string path, string reason)
    {
        var e = Refused(schema);
        Assert.Equal(path, e.Path);
        Assert.Contains(reason, e.Reason);
        Assert.StartsWith(path + ": ", e.Message);
    }

    [Fact]
    public void AnnotationsAndUnknownKeywordsAreIgnored()
    {
        var constraint = JsonConstraint.FromSchema("""
            {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "T", "description": "d", "x-vendor": 1,
             "type": "object", "properties": {"a": {"type": "string", "description": "a", "default": "z", "examples": ["q"]}},
             "required": ["a"], "additionalProperties": false, "unevaluatedProperties": false}
            """);
        Assert.True(JsonGrammarTests.Accepts(constraint, "{\"a\":\"b\"}"));
    }

    [Fact]
    public void DraftFourExclusiveBoundsAndOpenApiNullable()
    {
        var constraint = JsonConstraint.FromSchema("""{"type": "integer", "minimum": 1, "exclusiveMinimum": true, "nullable": true}""");
        Assert.False(JsonGrammarTests.Accepts(constraint, "1"));
        Assert.True(JsonGrammarTests.Accepts(constraint, "2"));
        Assert.True(JsonGrammarTests.Accepts(constraint, "null"));
    }

    [Fact]
    public void AnOptionalRecursionIsCutWhereNestingWouldRunOut()
    {
        // Any depth is fine for the schema; the grammar writes at most MaxNestingDepth levels, so deep in the tree only
        // leaves are possible (the optional "child" is no longer offered) and the value still closes.
        var constraint = JsonConstraint.FromSchema("""
            {"type": "object", "properties": {"child": {"$ref": "#"}, "leaf": {"type": "boolean"}}, "required": ["leaf"], "additionalProperties": false}
            """, options: new JsonGrammarOptions { MaxNestingDepth = 2 });
        Assert.True(JsonGrammarTests.Accepts(constraint, "{\"child\":{\"leaf\":true},\"leaf\":false}"));
        Assert.False(JsonGrammarTests.AcceptsPrefix(constraint, "{\"child\":{\"child\""));
    }

    [Fact]
    public void TheCacheCompilesASchemaOnce()
    {
        var cache = new JsonConstraintCache(capacity: 2);
        using var a = System.Text.Json.JsonDocument.Parse("""{"type": "string"}""");
        using var b = System.Text.Json.JsonDocument.Parse("""{"type": "integer"}""");
        using var c = System.Text.Json.JsonDocument.Parse("""{"type": "boolean"}""");
        var first = cache.FromSchema(a.RootElement, "s");
        Assert.Same(first, cache.FromSchema(a.RootElement, "s"));
        cache.FromSchema(b.RootElement, "s");
        cache.FromSchema(c.RootElement, "s"); // evicts a
        Assert.NotSame(first, cache.FromSchema(a.RootElement, "s"));
        Assert.Equal(4, cache.Compiled);
    }
}
