using System.Globalization;
using System.Text;

namespace GenAI.Training;

/// <summary>An SVG chart of train and validation loss against the step.</summary>
public static class LossCurve
{
    /// <summary>The chart of <paramref name="points"/>.</summary>
    public static string Svg(IReadOnlyList<EvaluationPoint> points)
    {
        const int width = 640, height = 360, margin = 48;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        if (points.Count > 0)
        {
            double maxStep = Math.Max(1, points.Max(p => p.Step));
            double low = points.Min(p => Math.Min(p.TrainLoss, p.ValidationLoss));
            double high = points.Max(p => Math.Max(p.TrainLoss, p.ValidationLoss));
            if (high - low < 1e-6) high = low + 1;
            double X(double step) => margin + step / maxStep * (width - 2 * margin);
            double Y(double loss) => height - margin - (loss - low) / (high - low) * (height - 2 * margin);
            string Line(Func<EvaluationPoint, double> loss) =>
                string.Join(' ', points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.Step):F1},{Y(loss(p)):F1}")));
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{margin}\" y1=\"{height - margin}\" x2=\"{width - margin}\" y2=\"{height - margin}\" stroke=\"black\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{margin}\" y1=\"{margin}\" x2=\"{margin}\" y2=\"{height - margin}\" stroke=\"black\"/>");
            svg.Append($"<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"{Line(p => p.TrainLoss)}\"/>");
            svg.Append($"<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\" points=\"{Line(p => p.ValidationLoss)}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{margin}\" y=\"{margin - 10}\">loss {low:F2} to {high:F2}; step 0 to {maxStep:F0}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{width - 200}\" y=\"{margin - 10}\" fill=\"#1f77b4\">train</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{width - 150}\" y=\"{margin - 10}\" fill=\"#d62728\">validation</text>");
        }
        svg.Append("</svg>");
        return svg.ToString();
    }
}
