using System.Globalization;
using System.Text;

namespace GenAI.Training;

/// <summary>
/// Shows <see cref="TrainingProgress"/> on a text output: as one progress bar line redrawn in place (a terminal), or
/// as a structured line every few iterations (a log file, a pipe). Lines written through <see cref="Log"/> (nanoGPT's
/// evaluation lines, say) appear above the bar, which is redrawn after them.
/// </summary>
public sealed class TrainingProgressWriter : IProgress<TrainingProgress>
{
    private const int BarWidth = 30;
    private readonly TextWriter _output;
    private readonly bool _bar;
    private readonly int _lineInterval;
    private string _barLine = "";

    /// <summary>Writes to <paramref name="output"/>: a bar when <paramref name="bar"/>, else a line every <paramref name="lineInterval"/> iterations.</summary>
    public TrainingProgressWriter(TextWriter output, bool bar, int lineInterval = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lineInterval, 1);
        _output = output;
        _bar = bar;
        _lineInterval = lineInterval;
        Log = bar ? new AboveBar(this) : output;
    }

    /// <summary>For the console: a bar when standard output is a terminal, lines otherwise.</summary>
    public static TrainingProgressWriter ForConsole() => new(Console.Out, bar: !Console.IsOutputRedirected);

    /// <summary>Where other lines go so that they do not tear the bar.</summary>
    public TextWriter Log { get; }

    /// <inheritdoc />
    public void Report(TrainingProgress value)
    {
        if (_bar)
        {
            int filled = value.MaxSteps == 0 ? BarWidth : (int)((long)BarWidth * value.Step / value.MaxSteps);
            _barLine = string.Create(CultureInfo.InvariantCulture,
                $"[{new string('#', filled)}{new string('.', BarWidth - filled)}] {value.Step}/{value.MaxSteps} loss {value.Loss:F4} lr {value.LearningRate:E2} {value.TokensPerSecond:F0} tok/s eta {Eta(value.Eta)}");
            _output.Write("\r" + _barLine + "\u001b[K");
            if (value.Step == value.MaxSteps) ClearBar();
            _output.Flush();
        }
        else if (value.Evaluation is null && (value.Step % _lineInterval == 0 || value.Step == value.MaxSteps))
        {
            _output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"iter {value.Step}/{value.MaxSteps}: loss {value.Loss:F4}, lr {value.LearningRate:E2}, {value.TokensPerSecond:F0} tokens/s, eta {Eta(value.Eta)}"));
        }
    }

    private static string Eta(TimeSpan eta) => eta.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture);

    private void ClearBar()
    {
        if (_barLine.Length > 0) _output.Write("\r\u001b[K");
        _barLine = "";
    }

    // Clears the bar before a line starts and draws it again after the line ends.
    private sealed class AboveBar(TrainingProgressWriter owner) : TextWriter
    {
        private bool _lineOpen;

        public override Encoding Encoding => owner._output.Encoding;

        public override void Write(char value)
        {
            var output = owner._output;
            string bar = owner._barLine;
            if (!_lineOpen && bar.Length > 0) output.Write("\r\u001b[K");
            _lineOpen = value != '\n';
            output.Write(value);
            if (!_lineOpen && bar.Length > 0) output.Write(bar);
        }

        public override void Write(string? value)
        {
            foreach (char c in value ?? "") Write(c);
        }

        public override void Flush() => owner._output.Flush();
    }
}
