using System.Text.Json.Nodes;
using GenAI.Core.Tokenization.Templates;

namespace GenAI.Core.Tests.Tokenization;

/// <summary>
/// The interpreter against Python Jinja2 as transformers configures it: every expected output below is what Jinja2
/// 3.1.6 rendered for the same template and variables (see ChatTemplates/README.md for how).
/// </summary>
public class JinjaTemplateTests
{
    private static readonly JsonObject Variables = JsonNode.Parse("""
        {"xs": [1, 2, 3], "ds": [{"a": 1}, {"a": 0}, {"b": 2}], "d": {"b": 2, "a": 1}, "s": "Hello World", "n": null, "f": 2.5,
         "u": "Überprüfe: 你好 🚀", "t": true}
        """)!.AsObject();

    private static string Render(string template) =>
        JinjaTemplate.Parse(template).Render(Variables.ToDictionary(kv => kv.Key, kv => (object?)kv.Value?.DeepClone()));


    /// <summary>Printed values are Python's str(): None/True/False, float repr, lists and dicts with repr'd items, tuples, views, namespaces, loop contexts, big ints.</summary>
    [Theory]
    [InlineData("{{ none }}|{{ true }}|{{ false }}|{{ n }}|{{ t }}", "None|True|False|None|True")]
    [InlineData("{{ [none, true, 'it''s', \"a'b\", 1.0, 1e16, 1e-5, {'k': none}] }}", "[None, True, 'its', \"a'b\", 1.0, 1e+16, 1e-05, {'k': None}]")]
    [InlineData("{{ [1, [2, 'x'], {'k': (1, 2)}] }} {{ (1, 'a') }} {{ ('a',) }} {{ () }}", "[1, [2, 'x'], {'k': (1, 2)}] (1, 'a') ('a',) ()")]
    [InlineData("{{ ['a\\'b\"', 'a\\nb', 'é\\x00', '\\u00a0', u] }}", "['a\\'b\"', 'a\\nb', 'é\\x00', '\\xa0', 'Überprüfe: 你好 🚀']")]
    [InlineData("{{ 0.1 + 0.2 }} {{ 1 / 3 }} {{ 6 / 2 }} {{ 1e300 * 1e300 }} {{ -0.0 }} {{ 2.5e-7 }} {{ 123456789012345678.0 }} {{ 1e15 }}", "0.30000000000000004 0.3333333333333333 3.0 inf -0.0 2.5e-07 1.2345678901234568e+17 1000000000000000.0")]
    [InlineData("{{ d }} {{ d.items() }} {{ d.keys() }} {{ d.values() }} {{ range(3) }} {{ range(1, 9, 2) }}", "{'b': 2, 'a': 1} dict_items([('b', 2), ('a', 1)]) dict_keys(['b', 'a']) dict_values([2, 1]) range(0, 3) range(1, 9, 2)")]
    [InlineData("{{ namespace(a=1) }} {% for i in xs %}{{ loop }}{% endfor %}", "<Namespace {'a': 1}> <LoopContext 1/3><LoopContext 2/3><LoopContext 3/3>")]
    [InlineData("{{ 100000000000000000000 }} {{ 2 ** 100 }} {{ 9223372036854775807 + 1 }}", "100000000000000000000 1267650600228229401496703205376 9223372036854775808")]
    [InlineData("{{ 'a' ~ 1 ~ none ~ true ~ 1.0 ~ undefined_thing }}", "a1NoneTrue1.0")]
    public void PythonStrOfValues(string template, string expected) => Assert.Equal(expected, Render(template));

    /// <summary>tojson is transformers' json.dumps(ensure_ascii=False): ', ' and ': ' separators, keys in order, non-ASCII kept, indent/separators/sort_keys/ensure_ascii as keyword arguments.</summary>
    [Theory]
    [InlineData("{{ {'a': [1, 'x', none, true, 1.5]} | tojson }}", "{\"a\": [1, \"x\", null, true, 1.5]}")]
    [InlineData("{{ u | tojson }} {{ 'é\u2028\u007f\u0001\"\\\\\\n\\t' | tojson }}", "\"Überprüfe: 你好 🚀\" \"é\u2028\u007f\\u0001\\\"\\\\\\n\\t\"")]
    [InlineData("{{ {'b': 1, 'a': [1, {}], 'c': []} | tojson(indent=2) }}", "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    {}\n  ],\n  \"c\": []\n}")]
    [InlineData("{{ [1, {'a': []}] | tojson(indent='\\t') }}", "[\n\t1,\n\t{\n\t\t\"a\": []\n\t}\n]")]
    [InlineData("{{ {'b': 1, 'a': [1, 2]} | tojson(separators=(',', ':'), sort_keys=true) }}", "{\"a\":[1,2],\"b\":1}")]
    [InlineData("{{ u | tojson(ensure_ascii=true) }}", "\"\\u00dcberpr\\u00fcfe: \\u4f60\\u597d \\ud83d\\ude80\"")]
    [InlineData("{{ [1.0, 2.5e-7, -0.0, 1e300 * 10, 100] | tojson }} {{ 'x' | tojson(indent=2) }}", "[1.0, 2.5e-07, -0.0, 1e+301, 100] \"x\"")]
    [InlineData("{{ ds | tojson(indent=0) }}", "[\n{\n\"a\": 1\n},\n{\n\"a\": 0\n},\n{\n\"b\": 2\n}\n]")]
    public void TojsonAsTransformers(string template, string expected) => Assert.Equal(expected, Render(template));

    /// <summary>Python arithmetic (floor division and modulo signs, int/float, bool as int), equality across int/float, chained comparisons, in/not in, and/or returning operands, inline if, and Jinja precedence (filters and tests bind tighter than ~ and unary minus).</summary>
    [Theory]
    [InlineData("{{ 1 + 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}", "3 3 -4 2 -2 1024 0.5 3.0 0.5")]
    [InlineData("{{ 1 + true }} {{ 'ab' * 2 }} {{ [1] * 3 }} {{ 'a' + 'b' }} {{ [1] + [2] }} {{ (1,) + (2,) }}", "2 abab [1, 1, 1] ab [1, 2] (1, 2)")]
    [InlineData("{{ 1 == 1.0 }} {{ true == 1 }} {{ [1, 2] == [1, 2] }} {{ (1, 2) == [1, 2] }} {{ {'a': 1} == {'a': 1.0} }} {{ undefined_thing == none }}", "True True True False True False")]
    [InlineData("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 'B' < 'a' }}", "True False True True True")]
    [InlineData("{{ 'b' in 'abc' }} {{ 2 in xs }} {{ 'a' in d }} {{ 1 in d }} {{ 'q' not in d }} {{ 'a' in undefined_thing }}", "True True True False True False")]
    [InlineData("{{ true and 'x' }} {{ false or 'y' }} {{ 0 or none }} {{ not xs }} {{ not true == false }}", "x y None False True")]
    [InlineData("{{ 'yes' if t else 'no' }}|{{ 'a' if false }}|{{ 'a' if false else none }}|{{ 1 if false else 2 if false else 3 }}", "yes||None|3")]
    [InlineData("{{ -1 | abs }} {{ -xs[0] }} {{ +f }}", "1 -1 2.5")]
    [InlineData("{{ 'a' ~ 'b' is string }} {{ xs | length is number }} {{ not undefined_thing is defined }}", "aTrue True True")]
    public void Operators(string template, string expected) => Assert.Equal(expected, Render(template));

    /// <summary>Indexing and slicing as Python: negative indexes, steps, out of range is undefined, strings by code point.</summary>
    [Theory]
    [InlineData("{{ xs[0] }} {{ xs[-1] }} {{ xs.0 }} {{ d['a'] }} {{ d.a }} {{ xs[10] }}|{{ 'ab'[5] }}|{{ d.missing }}|", "1 3 1 1 1 |||")]
    [InlineData("{{ xs[1:] }} {{ xs[:-1] }} {{ xs[::2] }} {{ xs[::-1] }} {{ xs[-1:0:-1] }} {{ xs[:-2:-1] }} {{ xs[5:] }} {{ xs[-10:] }}", "[2, 3] [1, 2] [1, 3] [3, 2, 1] [3, 2] [3] [] [1, 2, 3]")]
    [InlineData("{{ 'hello'[1:3] }} {{ 'abc'[::-1] }} {{ u[-1] }} {{ u[::-1] }} {{ u | length }} {{ u[10:] }}", "el cba 🚀 🚀 好你 :efürprebÜ 15  你好 🚀")]
    public void SubscriptsAndSlices(string template, string expected) => Assert.Equal(expected, Render(template));

    /// <summary>Jinja2's tests with its quirks: a bool is a number but not an integer, strings and undefined are iterable.</summary>
    [Theory]
    [InlineData("{{ undefined_thing is defined }} {{ xs is defined }} {{ n is none }} {{ s is string }} {{ d is mapping }} {{ xs is mapping }}", "False True True True True False")]
    [InlineData("{{ t is number }} {{ t is integer }} {{ f is integer }} {{ f is float }} {{ 1 is number }} {{ t is boolean }} {{ t is true }} {{ n is false }}", "True False False True True True True False")]
    [InlineData("{{ s is iterable }} {{ d is iterable }} {{ undefined_thing is iterable }} {{ 5 is iterable }} {{ s is sequence }} {{ d is sequence }}", "True True True False True True")]
    [InlineData("{{ 6 is divisibleby 3 }} {{ 2 is equalto 2 }} {{ 3 is eq(3) }} {{ 3 is odd }} {{ 3 is even }} {{ 2 is in xs }} {{ 3 is gt 2 }} {{ s is lower }} {{ 'ab' is lower }}", "True True True True False True True False True")]
    [InlineData("{{ n is sameas none }} {{ xs is sameas xs }} {{ 'upper' is filter }} {{ 'odd' is test }} {{ undefined_thing is undefined }}", "True True True True True")]
    public void Tests(string template, string expected) => Assert.Equal(expected, Render(template));

    /// <summary>Jinja2's filters, including generators (map/select/unique/reverse) consumed by list/join, and select/map of a falsy value giving nothing.</summary>
    [Theory]
    [InlineData("{{ '  x  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ xs | length }} {{ d | count }} {{ s | upper }} {{ s | lower }}", "x|hi|3 2 HELLO WORLD hello world")]
    [InlineData("{{ xs | first }} {{ xs | last }} {{ [] | first }}|{{ s | first }} {{ s | last }}", "1 3 |H d")]
    [InlineData("{{ undefined_thing | default('d') }} {{ n | default('d') }} {{ '' | default('d', true) }} {{ 0 | d('zero', boolean=true) }}", "d None d zero")]
    [InlineData("{{ xs | join(', ') }} {{ ds | map(attribute='a') | join(',') }} {{ [1, 2] | join }} {{ 'ab' | join('-') }}", "1, 2, 3 1,0, 12 a-b")]
    [InlineData("{{ ds | map(attribute='b', default='z') | list }} {{ xs | map('string') | list }} {{ ['a', 'b'] | map('upper') | join }}", "['z', 'z', 2] ['1', '2', '3'] AB")]
    [InlineData("{{ xs | select('odd') | list }} {{ xs | reject('odd') | list }} {{ xs | select('>', 1) | list }} {{ xs | select | list }} {{ none | select | list }}", "[1, 3] [2] [2, 3] [1, 2, 3] []")]
    [InlineData("{{ ds | selectattr('a') | list }} {{ ds | selectattr('a', 'equalto', 1) | list }} {{ ds | rejectattr('a', 'defined') | list }} {{ ds | rejectattr('a') | list }}", "[{'a': 1}] [{'a': 1}] [{'b': 2}] [{'a': 0}, {'b': 2}]")]
    [InlineData("{{ s | list }} {{ d | list }} {{ 5 | string }} {{ none | string }} {{ 3.7 | int }} {{ '42' | int }} {{ '4.5' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ '3.5' | float }} {{ 5 | float }}", "['H', 'e', 'l', 'l', 'o', ' ', 'W', 'o', 'r', 'l', 'd'] ['b', 'a'] 5 None 3 42 4 0 7 3.5 5.0")]
    [InlineData("{{ d | items | list }} {{ d | dictsort }} {{ d | dictsort(reverse=true) }} {{ {'b': 1, 'A': 2} | dictsort }} {{ {'b': 1, 'a': 0} | dictsort(by='value') }}", "[('b', 2), ('a', 1)] [('a', 1), ('b', 2)] [('b', 2), ('a', 1)] [('A', 2), ('b', 1)] [('a', 0), ('b', 1)]")]
    [InlineData("{{ ['a', 'A', 'b'] | unique | list }} {{ ['a', 'A'] | unique(case_sensitive=true) | list }} {{ xs | reverse | list }} {{ s | reverse }}", "['a', 'b'] ['a', 'A'] [3, 2, 1] dlroW olleH")]
    [InlineData("{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(2, blank=true) }}|{{ 'a\\nb' | indent('> ') }}", "a\n  b\n\n  c|  a\n  b|a\n  \n  b|a\n> b")]
    [InlineData("{{ 'hello' | replace('l', 'L') }} {{ 'hello' | replace('l', 'L', 1) }} {{ 'abc' | center(7) }}|{{ s | wordcount }}", "heLLo heLlo   abc  |2")]
    [InlineData("{{ 'They\\'re bob-x' | title }} {{ 'hELLO wORLD' | capitalize }} {{ 'ß' | upper }} {{ s | safe }} {{ '<a & \"b\">' | e }}", "They're Bob-X Hello world SS Hello World &lt;a &amp; &#34;b&#34;&gt;")]
    [InlineData("{{ -3 | abs }} {{ 1.5 | round }} {{ 2.5 | round }} {{ 2 | round }} {{ 2.675 | round(2) }} {{ 2.1 | round(0, 'ceil') }} {{ 2.9 | round(method='floor') }}", "3 2.0 2.0 2 2.67 3.0 2.0")]
    [InlineData("{{ xs | batch(2) | list }} {{ xs | batch(2, 0) | list }} {{ xs | sum }} {{ ds[:2] | sum(attribute='a', start=10) }} {{ xs | min }} {{ xs | max }}", "[[1, 2], [3]] [[1, 2], [3, 0]] 6 11 1 3")]
    [InlineData("{{ [3, 1, 2] | sort }} {{ ['b', 'A', 'a'] | sort }} {{ [3, 1] | sort(reverse=true) }} {{ ['a', 'B'] | max }} {{ ds[:2] | sort(attribute='a') }}", "[1, 2, 3] ['A', 'a', 'b'] [3, 1] B [{'a': 0}, {'a': 1}]")]
    [InlineData("{{ '%s and %d, %05.1f, %x' | format('x', 3, 3.14159, 255) }} {{ '%s' % 'x' }} {{ '%(a)s' % d }}", "x and 3, 003.1, ff x 1")]
    public void Filters(string template, string expected) => Assert.Equal(expected, Render(template));

    /// <summary>Python's str, dict, list and tuple methods.</summary>
    [Theory]
    [InlineData("[{{ ' x '.strip() }}][{{ '\\n\\nx\\n'.strip('\\n') }}][{{ 'xxay'.lstrip('x') }}][{{ 'ayyx'.rstrip('xy') }}][{{ ' a '.strip(none) }}]", "[x][x][ay][a][a]")]
    [InlineData("{{ ' a b '.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ 'a b c '.split(none, 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ' a b c '.rsplit(none, 1) }}", "['a', 'b'] ['a', 'b', '', 'c'] ['a', 'b,c'] ['a', 'b c '] ['a,b', 'c'] [' a b', 'c']")]
    [InlineData("{{ 'r</think>a'.split('</think>')[-1] }} {{ 'x'.split(',') }} {{ 'a\\nb\\r\\nc'.splitlines() }}", "a ['x'] ['a', 'b', 'c']")]
    [InlineData("{{ 'abc'.startswith(('x', 'a')) }} {{ 'abc'.endswith('bc') }} {{ 'abc'.startswith('b', 1) }} {{ 'abc'.find('c') }} {{ 'abc'.find('z') }} {{ 'abcb'.rfind('b') }} {{ 'abcb'.count('b') }} {{ u.find('🚀') }}", "True True True 2 -1 3 2 14")]
    [InlineData("{{ '-'.join(['a', 'b']) }} {{ 'abc'.replace('b', 'x') }} {{ 'aaa'.replace('a', 'b', 2) }} {{ 'ab'.upper() }} {{ 'AB'.lower() }} {{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }}", "a-b axc bba AB ab Hello World Hello")]
    [InlineData("{{ '{}-{x}'.format(1, x=2) }} {{ '{0}{0}'.format('a') }} {{ '{:>5}|{:<5}|{:^6}|{:05d}|{:.2f}|{:,}|{!r}'.format('a', 'b', 'c', 42, 2.675, 1234567, 'x') }}", "1-2 aa     a|b    |  c   |00042|2.67|1,234,567|'x'")]
    [InlineData("{{ 'ab'.center(6, '*') }} {{ '7'.zfill(3) }} {{ 'a=b'.partition('=') }} {{ 'abc'.removeprefix('a') }} {{ '12'.isdigit() }} {{ ' '.isspace() }} {{ 'aB'.swapcase() }}", "**ab** 007 ('a', '=', 'b') bc True True Ab")]
    [InlineData("{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 5) }} {{ d.items() | list }} {{ xs.index(2) }} {{ xs.count(1) }} {{ (1, 2).index(2) }}", "1 None 5 [('b', 2), ('a', 1)] 1 1 1")]
    public void StringMethods(string template, string expected) => Assert.Equal(expected, Render(template));

    /// <summary>if/elif/else, for with loop variables, filter and else, break/continue, Jinja2 scoping (a set in a loop stays in the iteration; namespace escapes it), tuple unpacking, set blocks, macros with defaults/varargs/kwargs/caller/recursion, filter/with/generation/raw/print blocks, range and dict.</summary>
    [Theory]
    [InlineData("{% if false %}a{% elif n %}b{% elif s %}c{% else %}d{% endif %}", "c")]
    [InlineData("{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", "1032TrueFalse3;2121FalseFalse3;3210FalseTrue3;")]
    [InlineData("{% for x in xs %}{{ loop.previtem }}|{{ loop.nextitem }};{% endfor %} {% for x in xs %}{{ loop.cycle('a', 'b') }}{{ loop.changed(x > 1) }}{% endfor %}", "|2;1|3;2|; aTruebTrueaFalse")]
    [InlineData("{% for x in xs %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 3 %}{% break %}{% endif %}{{ x }}{% endfor %}", "1")]
    [InlineData("{% for x in xs if x > 1 %}{{ loop.index }}/{{ loop.length }}:{{ x }} {% else %}none{% endfor %}|{% for x in [] %}x{% else %}empty{% endfor %}", "1/2:2 2/2:3 |empty")]
    [InlineData("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %} {% for k in d %}{{ k }}{% endfor %} {% for c in 'ab' %}{{ c }}.{% endfor %} {% for a, b in [[1, 2], [3, 4]] %}{{ a }}{{ b }}{% endfor %}", "b=2;a=1; ba a.b. 1234")]
    [InlineData("{% for x in [1, 2] %}{% for y in [3] %}{{ loop.index }}{% endfor %}{{ loop.index }}{% endfor %}", "1112")]
    [InlineData("{% set x = 0 %}{% for i in [1, 2] %}{{ x }}{% set x = i %}{{ x }}{% endfor %}{{ x }}{% if true %}{% set y = 3 %}{% endif %}{{ y }}", "010203")]
    [InlineData("{% set ns = namespace(total=0, seen=false) %}{% for x in xs %}{% set ns.total = ns.total + x %}{% if x == 2 %}{% set ns.seen = true %}{% endif %}{% endfor %}{{ ns.total }} {{ ns.seen }} {% set ns2 = namespace() %}{% set ns2.a = 'x' %}{{ ns2.a }}", "6 True x")]
    [InlineData("{% set a, b = 1, 2 %}{{ a }}{{ b }} {% set t2 = 1, 2 %}{{ t2 }} {% set x %}  hi {{ 1 }}\n{% endset %}[{{ x }}] {% set y | upper %}up{% endset %}{{ y }}", "12 (1, 2) [  hi 1\n] UP")]
    [InlineData("{% macro m(a, b=2) %}{{ a }}{{ b }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1) }}|{{ m(1, 3) }}|{{ m(b=5, a=4) }}|{{ m(1, 2, 3) }}|{{ m(1, c=3) }}", "12(){}|13(){}|45(){}|12(3,){}|12(){'c': 3}")]
    [InlineData("{% macro m() %}[{{ loop is defined }}{{ y }}]{% endmacro %}{% set y = 7 %}{% for i in [1] %}{{ m() }}{% endfor %} {% macro r(n) %}{{ n }}{% if n > 0 %}{{ r(n - 1) }}{% endif %}{% endmacro %}{{ r(3) }}", "[False7] 3210")]
    [InlineData("{% macro m(a) %}<{{ caller(a) }}>{% endmacro %}{% call(x) m(5) %}got {{ x }}{% endcall %} {% macro w() %}<{{ caller() }}>{% endmacro %}{% call w() %}body{% endcall %}", "<got 5> <body>")]
    [InlineData("{% filter upper %}abc{% endfilter %} {% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a }} {% generation %}gen {{ 1 }}{% endgeneration %} {% raw %}{{ x }}{% endraw %} {% print 'p' %}", "ABC 3 gen 1 {{ x }} p")]
    [InlineData("{{ dict(a=1, b='x') }} {{ range(1, 10, 3) | list }} {{ range(3) | length }} {{ range(3, 0, -1) | list }}", "{'a': 1, 'b': 'x'} [1, 4, 7] 3 [3, 2, 1]")]
    public void Statements(string template, string expected) => Assert.Equal(expected, Render(template));

    /// <summary>Whitespace as Jinja2 with trim_blocks and lstrip_blocks: - and + markers, comments, raw, tag delimiters inside strings and dicts, newline normalization and the dropped trailing newline, string-literal escapes.</summary>
    [Theory]
    [InlineData("a\n  {% if true %}\n  b\n  {% endif %}\nc\n", "a\n  b\nc")]
    [InlineData("  {% if true %}x{% endif %}|x  {% if true %}y{% endif %}|{{ 'a' }}\n  {% if true %}b{% endif %}", "x|x  y|a\nb")]
    [InlineData("{% if true %}  \n  {% if true %}z{% endif %}{% endif %}|a  {#- c -#}  b|a\n  {# c #}\nb|{%+ if true %}x{% endif %}", "  \nz|ab|a\nb|x")]
    [InlineData("a   {{- 'b' -}}   c  {%- if true -%}  d  {%- endif %}\n", "abcd")]
    [InlineData("{{ \"}}\" }} {{ {'a': {'b': 1}} }} {% set x = '%}' %}{{ x }}", "}} {'a': {'b': 1}} %}")]
    [InlineData("  {%- raw -%}  {{ x }}  {%- endraw -%}  z|{% raw %}\nx\n{% endraw %}\ny", "{{ x }}z|\nx\ny")]
    [InlineData("line1\r\nline2\r\n\n", "line1\nline2\n")]
    [InlineData("{{ 'a\\\nb' }} {{ '\\d' }} {{ '\\u00e9\\x41\\'' }} {{ 'a' 'b' }} {{ 1_000 }} {{ 1e5 }} {{ 1.5e-3 }}", "ab \\d éA' ab 1000 100000.0 0.0015")]
    [InlineData("{%- for m in ds -%}\n  {{- m.a -}}\n{%- endfor %}\n{% for i in [1] %}\n  {{ i }}\n{% endfor %}\n", "10  1\n")]
    public void WhitespaceControl(string template, string expected) => Assert.Equal(expected, Render(template));

    /// <summary>Where Jinja2 raises (undefined used, Python type errors, the immutable sandbox), so does the interpreter, with Python's words.</summary>
    [Theory]
    [InlineData("{{ x.y }}", "'x' is undefined")]
    [InlineData("{{ x['y'] }}", "'x' is undefined")]
    [InlineData("{{ x.y is defined }}", "'x' is undefined")]
    [InlineData("{{ x + 'a' }}", "'x' is undefined")]
    [InlineData("{{ -x }}", "'x' is undefined")]
    [InlineData("{{ x() }}", "'x' is undefined")]
    [InlineData("{{ 'a' + 1 }}", "can only concatenate str (not \"int\") to str")]
    [InlineData("{{ [1] + (2,) }}", "can only concatenate list (not \"tuple\") to list")]
    [InlineData("{{ 3 > 'a' }}", "'>' not supported between instances of 'int' and 'str'")]
    [InlineData("{{ 1 / 0 }}", "division by zero")]
    [InlineData("{{ 'a' in none }}", "argument of type 'NoneType' is not iterable")]
    [InlineData("{% for a in 5 %}{% endfor %}", "'int' object is not iterable")]
    [InlineData("{{ none | length }}", "object of type 'NoneType' has no len()")]
    [InlineData("{{ (xs | select) | length }}", "object of type 'generator' has no len()")]
    [InlineData("{{ x | tojson }}", "Object of type Undefined is not JSON serializable")]
    [InlineData("{% set l = [1] %}{{ l.append(2) }}", "access to attribute 'append' of 'list' object is unsafe.")]
    [InlineData("{% set d2 = {} %}{{ d2.update({'a': 1}) }}", "access to attribute 'update' of 'dict' object is unsafe.")]
    [InlineData("{% set d2 = {} %}{% set d2.a = 1 %}", "cannot assign attribute on non-namespace object")]
    [InlineData("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", "macro 'm' takes not more than 1 argument(s)")]
    [InlineData("{% macro m(a) %}{% endmacro %}{{ m(b=2) }}", "macro 'm' takes no keyword argument 'b'")]
    [InlineData("{% set a, b = [1] %}", "not enough values to unpack (expected 2, got 1)")]
    [InlineData("{{ xs | map('string') }}", "cannot print a generator")]
    public void FailsWhereJinja2Fails(string template, string message)
    {
        var e = Assert.Throws<TemplateException>(() => Render(template));
        Assert.Contains(message, e.Message);
    }

    /// <summary>What the interpreter does not support fails with a message naming it, never with different output.</summary>
    [Theory]
    [InlineData("{% include 'other.jinja' %}", "unsupported tag {% include %}")]
    [InlineData("{% extends 'base.jinja' %}", "unsupported tag {% extends %}")]
    [InlineData("{% import 'm.jinja' as m %}", "unsupported tag {% import %}")]
    [InlineData("{{ xs | groupby('a') }}", "unsupported filter 'groupby'")]
    [InlineData("{{ s | truncate(3) }}", "unsupported filter 'truncate'")]
    [InlineData("{% if xs is escaped_thing %}{% endif %}", "unsupported test 'is escaped_thing'")]
    [InlineData("{% for x in xs recursive %}{% endfor %}", "unsupported recursive for loop")]
    [InlineData("{% break %}", "'break' outside of a loop")]
    [InlineData("{% if %}", "expected an expression")]
    [InlineData("{% for x in xs %}", "missing {% endfor %}")]
    [InlineData("{{ 'abc'.encode() }}", "unsupported string method 'encode'")]
    [InlineData("{{ {1: 'a'} }}", "dict keys other than strings are not supported")]
    public void NamesWhatItDoesNotSupport(string template, string message)
    {
        var e = Assert.Throws<TemplateException>(() => Render(template));
        Assert.Contains(message, e.Message);
    }

    /// <summary>Nesting or recursion deep enough to exhaust the stack is a template error, not a crashed process.</summary>
    [Fact]
    public void DeepNestingAndRecursionFailCleanly()
    {
        Assert.Contains("nests too deeply", Assert.Throws<TemplateException>(() => Render("{{ " + new string('(', 5000) + "1" + new string(')', 5000) + " }}")).Message);
        Assert.Contains("recursed too deeply", Assert.Throws<TemplateException>(() =>
            Render("{% set ns = namespace(x=1) %}{% for i in range(50000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}")).Message);
        Assert.Contains("recursed more than", Assert.Throws<TemplateException>(() =>
            Render("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}")).Message);
    }

    /// <summary>
    /// What would allocate more than <see cref="JinjaTemplate.MaxOutputLength"/> characters (or items) fails as a
    /// template error (Python raises MemoryError or takes as long) instead of being silently cut short or
    /// allocating gigabytes; sizes at the limit still render.
    /// </summary>
    [Theory]
    [InlineData("{{ 'ab' * 10000000 }}", "a repeated string")]
    [InlineData("{{ 'x' * 9223372036854775807 }}", "a repeated string")]
    [InlineData("{{ ([1] * 20000000) | length }}", "a repeated sequence")]
    [InlineData("{{ 'a'.center(20000000) }}", "a padding width")]
    [InlineData("{{ 'a' | center(9223372036854775807) }}", "a padding width")]
    [InlineData("{{ 'a'.rjust(17000000, '*') }}", "a padding width")]
    [InlineData("{{ '7'.zfill(17000000) }}", "a zfill width")]
    [InlineData("{{ 'a\\nb' | indent(17000000) }}", "indent width")]
    [InlineData("{{ [[1]] | tojson(indent=17000000) }}", "tojson indent")]
    [InlineData("{{ [[[[1]]]] | tojson(indent=5000000) }}", "tojson's text")]
    [InlineData("{{ '{:>17000000}'.format(1) }}", "a format width")]
    [InlineData("{{ '{:.99999999999}'.format(1.0) }}", "a format precision")]
    [InlineData("{{ '%17000000s' % 'a' }}", "a format width")]
    [InlineData("{{ '%9000000s%9000000s' % ('a', 'b') }}", "a formatted string")]
    [InlineData("{% set ns = namespace(s='0123456789abcdef') %}{% for i in range(30) %}{% set ns.s = ns.s + ns.s %}{% endfor %}", "a string")]
    [InlineData("{% set ns = namespace(s='0123456789abcdef') %}{% for i in range(30) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", "a string")]
    [InlineData("{{ ('x' * 9000000).replace('x', 'yy') }}", "a replaced string")]
    [InlineData("{{ ['x' * 9000000, 'y' * 9000000] | join }}", "a joined string")]
    [InlineData("{{ ''.join(['x' * 9000000, 'y' * 9000000]) }}", "a joined string")]
    [InlineData("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", "the rendered text")]
    [InlineData("{% for i in range(100000) %}{% for j in range(20) %}0123456789{% endfor %}{% endfor %}", "the rendered text")]
    [InlineData("{% set big %}{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}{% endset %}", "the rendered text")]
    public void RefusesToBuildMoreThanTheOutputLimit(string template, string what)
    {
        var e = Assert.Throws<TemplateException>(() => Render(template));
        Assert.Contains(what, e.Message);
        Assert.Contains("over the template limit of 16,777,216", e.Message);
    }

    [Fact]
    public void SizesAtTheLimitStillRender()
    {
        Assert.Equal(JinjaTemplate.MaxOutputLength, Render("{{ 'ab' * 8388608 }}").Length);
        Assert.Equal(JinjaTemplate.MaxOutputLength, Render("{{ 'a'.center(16777216) }}").Length);
        Assert.Equal("5000000", Render("{{ ([1, 2] * 2500000) | length }}"));
        Assert.Equal("  a", Render("{{ 'a' | indent(2, true) }}"));
        Assert.Equal("a", Render("{{ 'a' * -3 }}a"));
        Assert.Equal("", Render("{{ '' * 9223372036854775807 }}"));
        // Python writes a double's exact decimals, then zeros: no silent cut at 400 decimals.
        string tiny = Render("{{ '%.1100f' % 5e-324 }}"); // Python: 323 zeros, 4940656458412465441765687928682213723651..., 3447265625 at decimal 1074
        Assert.Equal(1102, tiny.Length);
        Assert.StartsWith("0." + new string('0', 323) + "494065645841246544176", tiny);
        Assert.EndsWith("3447265625" + new string('0', 26), tiny);
        Assert.Equal("0.1000000000000000055511151231257827021181583404541015625" + new string('0', 1045), Render("{{ '%.1100f' % 0.1 }}"));
        Assert.Equal("1." + new string('0', 2000), Render("{{ '{:.2000f}'.format(1.0) }}"));
    }
}
