using System.Globalization;
using System.Text.RegularExpressions;

namespace Baton.Checkpoints;

/// <summary>Reads training steps out of checkpoint names.</summary>
internal static partial class StepNumbers
{
    /// <summary>
    /// <c>epoch=3-step=1200.ckpt</c> → 1200, <c>ckpt-1200.pt</c> → 1200, <c>model_step_50.pt</c> → 50,
    /// <c>last.ckpt</c> → null: an explicit "step" wins, else the last number in the file name.
    /// </summary>
    public static long? FromFileName(string path)
    {
        var name = Path.GetFileName(path);
        var explicitStep = ExplicitStep().Match(name);
        if (explicitStep.Success)
        {
            return Parse(explicitStep.Groups[1].Value);
        }

        var numbers = Number().Matches(Path.GetFileNameWithoutExtension(name));
        return numbers.Count > 0 ? Parse(numbers[^1].Value) : null;
    }

    /// <summary>A trailing <c>-N</c> or <c>_N</c> (TensorFlow prefixes such as <c>vector-1000</c>).</summary>
    public static long? FromSuffix(string name)
    {
        var match = Suffix().Match(name);
        return match.Success ? Parse(match.Groups[1].Value) : null;
    }

    public static long? Parse(string digits) =>
        long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    [GeneratedRegex(@"(?i)step[=_-]?(\d+)")]
    private static partial Regex ExplicitStep();

    [GeneratedRegex(@"\d+")]
    private static partial Regex Number();

    [GeneratedRegex(@"[-_](\d+)$")]
    private static partial Regex Suffix();
}
