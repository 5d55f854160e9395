using System.Text;
using GenAI.Core.Generation.Constraints;

namespace GenAI.Core.Tests.Generation.Constraints;

/// <summary>The byte automaton alone: which texts each grammar accepts, whole and as prefixes.</summary>
public sealed class JsonGrammarTests
{
    internal static bool Accepts(JsonConstraint constraint, string text) => StateSet.Matches(constraint.Grammar, Encoding.UTF8.GetBytes(text));

    internal static bool AcceptsPrefix(JsonConstraint constraint, string text) => AcceptsPrefix(constraint, Encoding.UTF8.GetBytes(text));

    internal static bool AcceptsPrefix(JsonConstraint constraint, byte[] bytes) =>
        new StateSet([new RootFrame(constraint.Grammar, 0)]).Advance(bytes) is not null;

    private static JsonConstraint Schema(string json) => JsonConstraint.FromSchema(json);

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"a\":1}")]
    [InlineData("{\"a\": [1, 2.5, -3e10, true, false, null, \"x\", {\"b\": {}}], \"c\": \"\\u00e9\\n\\\"\"}")]
    [InlineData("{\n\"a\": \"é 日本 😀\"\n}")]
    [InlineData("{\"\":[]}")]
    public void AnyObjectAcceptsJsonObjects(string text) => Assert.True(Accepts(JsonConstraint.AnyObject(), text), text);

    [Theory]
    [InlineData("[]")]                  // not an object
    [InlineData("\"x\"")]
    [InlineData(" {}")]                 // no leading whitespace
    [InlineData("{} ")]                 // nothing after the value
    [InlineData("{  \"a\":1}")]         // at most one whitespace byte between lexemes
    [InlineData("{\t\"a\":1}")]         // tabs are not written
    [InlineData("{\"a\":01}")]          // leading zero
    [InlineData("{\"a\":1.}")]
    [InlineData("{\"a\":.5}")]
    [InlineData("{\"a\":+1}")]
    [InlineData("{\"a\":1,}")]
    [InlineData("{\"a\" 1}")]
    [InlineData("{\"a\":\"\n\"}")]      // raw control character in a string
    [InlineData("{\"a\":\"\\x\"}")]     // unknown escape
    [InlineData("{\"a\":\"\\ud83d\\ude00\"}")] // surrogates are written as UTF-8, never as escapes
    [InlineData("{\"a\":tru}")]
    [InlineData("{\"a\":1e123}")]       // at most two exponent digits
    [InlineData("{\"a\":1234567890123456}")] // at most 15 integer digits
    public void AnyObjectRefusesTheRest(string text) => Assert.False(Accepts(JsonConstraint.AnyObject(), text), text);

    [Fact]
    public void InvalidUtf8IsRefusedAndPartialCharactersArePrefixes()
    {
        var constraint = JsonConstraint.AnyObject();
        byte[] open = "{\"a\":\""u8.ToArray();
        Assert.True(AcceptsPrefix(constraint, [.. open, 0xE6]));            // first byte of 日
        Assert.True(AcceptsPrefix(constraint, [.. open, 0xE6, 0x97]));
        Assert.False(AcceptsPrefix(constraint, [.. open, 0xC0, 0x80]));    // overlong
        Assert.False(AcceptsPrefix(constraint, [.. open, 0xED, 0xA0]));    // a surrogate in UTF-8
        Assert.False(AcceptsPrefix(constraint, [.. open, 0xF5]));          // beyond U+10FFFF
        Assert.False(AcceptsPrefix(constraint, [.. open, 0x80]));          // a continuation byte first
        Assert.False(AcceptsPrefix(constraint, [.. open, 0xE6, 0x41]));    // a character cut short
        Assert.True(AcceptsPrefix(constraint, "{\"a\":\"\\u00"));
        Assert.False(AcceptsPrefix(constraint, "{\"a\":\"\\uD8"));         // only a surrogate can follow: refused at once
    }

    [Fact]
    public void NestingIsBoundedSoEveryValueCanClose()
    {
        var constraint = JsonConstraint.AnyObject(new JsonGrammarOptions { MaxNestingDepth = 3 });
        Assert.True(Accepts(constraint, "{\"a\":{\"b\":[1]}}"));
        Assert.False(AcceptsPrefix(constraint, "{\"a\":{\"b\":[["));
    }

    [Fact]
    public void DeclaredPropertiesComeInOrderRequiredAlwaysOptionalAtWill()
    {
        var constraint = Schema("""
            {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}, "c": {"type": "boolean"}},
             "required": ["b"], "additionalProperties": false}
            """);
        Assert.True(Accepts(constraint, "{\"a\":1,\"b\":\"x\",\"c\":true}"));
        Assert.True(Accepts(constraint, "{\"b\":\"x\"}"));
        Assert.True(Accepts(constraint, "{\"a\": 1, \"b\": \"x\"}"));
        Assert.False(Accepts(constraint, "{\"a\":1}"));                  // b is required
        Assert.False(Accepts(constraint, "{\"b\":\"x\",\"a\":1}"));       // declared order
        Assert.False(Accepts(constraint, "{\"b\":\"x\",\"d\":1}"));       // undeclared
        Assert.False(Accepts(constraint, "{\"b\":\"x\",\"b\":\"y\"}"));   // never twice
        Assert.False(Accepts(constraint, "{\"a\":\"1\",\"b\":\"x\"}"));   // wrong type
        Assert.False(AcceptsPrefix(constraint, "{\"a\":1,}"));
    }

    [Fact]
    public void IntegersAndNumbersKeepTheirBounds()
    {
        var age = Schema("""{"type": "integer", "minimum": 18, "maximum": 120}""");
        foreach (string ok in new[] { "18", "99", "120" }) Assert.True(Accepts(age, ok), ok);
        foreach (string bad in new[] { "17", "121", "-5", "18.5", "1e2", "0" }) Assert.False(Accepts(age, bad), bad);
        Assert.False(AcceptsPrefix(age, "-"));   // no negative reaches 18
        Assert.False(AcceptsPrefix(age, "13"));  // 13x is over 120, 13 under 18
        Assert.True(AcceptsPrefix(age, "1"));

        var unit = Schema("""{"type": "number", "exclusiveMinimum": 0, "maximum": 1}""");
        foreach (string ok in new[] { "0.5", "1", "0.000000000001", "1.0" }) Assert.True(Accepts(unit, ok), ok);
        foreach (string bad in new[] { "0", "0.0", "1.5", "-0.5", "2" }) Assert.False(Accepts(unit, bad), bad);

        var negative = Schema("""{"type": "integer", "maximum": -10}""");
        Assert.True(Accepts(negative, "-10"));
        Assert.False(Accepts(negative, "-9"));
        Assert.False(AcceptsPrefix(negative, "1"));
    }

    [Fact]
    public void PatternsAndFormatsConstrainTheDecodedString()
    {
        var code = Schema("""{"type": "string", "pattern": "^[A-Z]{3}-\\d{2,4}$"}""");
        Assert.True(Accepts(code, "\"ABC-123\""));
        Assert.True(Accepts(code, "\"\\u0041BC-12\""));  // an escape is the character it names
        Assert.False(Accepts(code, "\"ABC-1\""));
        Assert.False(AcceptsPrefix(code, "\"AB1"));
        Assert.False(AcceptsPrefix(code, "\"ABC-12345"));
        Assert.False(AcceptsPrefix(code, new byte[] { (byte)'"', 0xC3 })); // no non-ASCII letter fits

        var contains = Schema("""{"type": "string", "pattern": "cat"}"""); // unanchored: anywhere in the string
        Assert.True(Accepts(contains, "\"concatenate\""));
        Assert.False(Accepts(contains, "\"dog\""));

        var date = Schema("""{"type": "string", "format": "date"}""");
        Assert.True(Accepts(date, "\"2024-02-28\""));
        Assert.False(Accepts(date, "\"2024-02-30\""));
        Assert.False(Accepts(date, "\"2024-13-01\""));
        var dateTime = Schema("""{"type": "string", "format": "date-time"}""");
        Assert.True(Accepts(dateTime, "\"2024-05-06T07:08:09.123Z\""));
        Assert.True(Accepts(dateTime, "\"2024-05-06T07:08:09+02:00\""));
        Assert.False(Accepts(dateTime, "\"2024-05-06 07:08:09Z\""));
        var uuid = Schema("""{"type": "string", "format": "uuid"}""");
        Assert.True(Accepts(uuid, "\"123e4567-e89b-12d3-a456-426614174000\""));
        Assert.False(Accepts(uuid, "\"123e4567e89b12d3a456426614174000\""));

        var lengths = Schema("""{"type": "string", "minLength": 2, "maxLength": 3}""");
        Assert.True(Accepts(lengths, "\"日本\""));
        Assert.False(Accepts(lengths, "\"a\""));
        Assert.False(Accepts(lengths, "\"abcd\""));
    }

    [Fact]
    public void EnumsConstsAndNullableTypes()
    {
        var color = Schema("""{"enum": ["red", "green", 3, null, {"a": [1]}]}""");
        foreach (string ok in new[] { "\"red\"", "\"green\"", "3", "null", "{\"a\":[1]}" }) Assert.True(Accepts(color, ok), ok);
        foreach (string bad in new[] { "\"blue\"", "\"re\"", "4", "30" }) Assert.False(Accepts(color, bad), bad);

        var filtered = Schema("""{"type": "string", "enum": ["a", 1, "b"]}"""); // 1 is not a string: never written
        Assert.False(Accepts(filtered, "1"));
        Assert.True(Accepts(filtered, "\"b\""));

        var nullable = Schema("""{"type": ["string", "null"], "pattern": "^x+$"}""");
        Assert.True(Accepts(nullable, "null"));
        Assert.True(Accepts(nullable, "\"xx\""));
        Assert.False(Accepts(nullable, "\"y\""));

        var constant = Schema("""{"const": "fixed"}""");
        Assert.True(Accepts(constant, "\"fixed\""));
        Assert.False(Accepts(constant, "\"fixe\""));
    }

    [Fact]
    public void ArraysKeepTheirLengthBounds()
    {
        var tags = Schema("""{"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2}""");
        Assert.True(Accepts(tags, "[\"a\"]"));
        Assert.True(Accepts(tags, "[\"a\", \"b\"]"));
        Assert.False(Accepts(tags, "[]"));
        Assert.False(AcceptsPrefix(tags, "[\"a\",\"b\","));
    }

    [Fact]
    public void AnyOfFollowsEveryAlternativeUntilTheyPart()
    {
        var shape = Schema("""
            {"anyOf": [
              {"type": "object", "properties": {"kind": {"const": "circle"}, "r": {"type": "number"}}, "required": ["kind", "r"], "additionalProperties": false},
              {"type": "object", "properties": {"kind": {"const": "square"}, "side": {"type": "integer"}}, "required": ["kind", "side"], "additionalProperties": false}
            ]}
            """);
        Assert.True(Accepts(shape, "{\"kind\":\"circle\",\"r\":1.5}"));
        Assert.True(Accepts(shape, "{\"kind\":\"square\",\"side\":2}"));
        Assert.False(Accepts(shape, "{\"kind\":\"circle\",\"side\":2}"));
        Assert.False(Accepts(shape, "{\"kind\":\"square\",\"side\":2.5}"));
    }

    [Fact]
    public void RecursiveReferencesAreFollowed()
    {
        var tree = Schema("""
            {"$ref": "#/$defs/node", "$defs": {"node": {"type": "object",
              "properties": {"value": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
              "required": ["value", "children"], "additionalProperties": false}}}
            """);
        Assert.True(Accepts(tree, "{\"value\":1,\"children\":[{\"value\":2,\"children\":[]},{\"value\":3,\"children\":[{\"value\":4,\"children\":[]}]}]}"));
        Assert.False(Accepts(tree, "{\"value\":1,\"children\":[{\"value\":2}]}"));

        var list = Schema("""
            {"type": "object", "properties": {"value": {"type": "string"}, "next": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}},
             "required": ["value", "next"], "additionalProperties": false}
            """);
        Assert.True(Accepts(list, "{\"value\":\"a\",\"next\":{\"value\":\"b\",\"next\":null}}"));
    }

    [Fact]
    public void TheEndIsAllowedExactlyWhenTheValueIsComplete()
    {
        var number = Schema("""{"type": "integer"}""");
        var state = new StateSet([new RootFrame(number.Grammar, 0)]);
        Assert.False(state.CanEnd);
        var after12 = state.Advance("12"u8)!;
        Assert.True(after12.CanEnd);           // a top-level number may end...
        Assert.NotNull(after12.Advance("3"u8)); // ...or go on
        Assert.False(after12.IsFinished);
        var obj = new StateSet([new RootFrame(JsonConstraint.AnyObject().Grammar, 0)]).Advance("{}"u8)!;
        Assert.True(obj.IsFinished);
        Assert.Null(obj.Advance(" "u8));
    }
}
