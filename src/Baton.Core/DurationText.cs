using System.Globalization;
using System.Text.RegularExpressions;

namespace Baton;

/// <summary>Durations as people write them on command lines: <c>90s</c>, <c>15m</c>, <c>11h30m</c>, <c>7d</c>.</summary>
public static partial class DurationText
{
    /// <summary>Parses a duration made of number-unit pairs (d, h, m, s, ms).</summary>
    /// <exception cref="UsageException">The text is not such a duration.</exception>
    public static TimeSpan Parse(string text, string optionName)
    {
        var match = Pattern().Match(text.Trim());
        if (!match.Success || match.Groups["part"].Captures.Count == 0)
        {
            throw new UsageException($"{optionName}: '{text}' is not a duration: write e.g. 90s, 15m, 11h30m or 7d");
        }

        var total = TimeSpan.Zero;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unitStart = part.Value.IndexOfAny(['d', 'h', 'm', 's']);
            var value = double.Parse(part.Value[..unitStart], CultureInfo.InvariantCulture);
            total += part.Value[unitStart..] switch
            {
                "d" => TimeSpan.FromDays(value),
                "h" => TimeSpan.FromHours(value),
                "m" => TimeSpan.FromMinutes(value),
                "s" => TimeSpan.FromSeconds(value),
                _ => TimeSpan.FromMilliseconds(value),
            };
        }

        return total;
    }

    [GeneratedRegex(@"^(?<part>\d+(\.\d+)?(ms|d|h|m|s))+$")]
    private static partial Regex Pattern();
}
