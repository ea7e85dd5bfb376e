using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Baton.Supervision;

/// <summary>Durations as people write them: <c>30s</c>, <c>11h30m</c>, <c>1.5h</c>, <c>500ms</c>, <c>2d</c>; a bare number is seconds.</summary>
public static partial class Durations
{
    /// <summary>Parses a duration.</summary>
    /// <exception cref="UsageException">The text is not a duration.</exception>
    public static TimeSpan Parse(string text, string what)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            return ParseUnchecked(text, what);
        }
        catch (OverflowException e)
        {
            throw new UsageException($"{what} '{text}' is too long: the longest duration is {(int)TimeSpan.MaxValue.TotalDays}d", e);
        }
    }

    private static TimeSpan ParseUnchecked(string text, string what)
    {
        var trimmed = text.Trim();
        if (double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var bare) && bare >= 0)
        {
            return TimeSpan.FromSeconds(bare);
        }

        var parts = Part().Matches(trimmed);
        if (trimmed.Length == 0 || parts.Sum(m => m.Length) != trimmed.Length)
        {
            throw new UsageException($"{what} '{text}' is not a duration: write e.g. 30s, 5m, 11h30m or 500ms");
        }

        var total = TimeSpan.Zero;
        foreach (Match part in parts)
        {
            var value = double.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            total += part.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(value),
                "s" => TimeSpan.FromSeconds(value),
                "m" => TimeSpan.FromMinutes(value),
                "h" => TimeSpan.FromHours(value),
                _ => TimeSpan.FromDays(value),
            };
        }

        return total;
    }

    /// <summary>A short form of a duration: <c>1h30m</c>, <c>45s</c>, <c>1.5s</c>, <c>250ms</c>.</summary>
    public static string Format(TimeSpan span)
    {
        if (span < TimeSpan.FromSeconds(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMilliseconds}ms");
        }

        if (span < TimeSpan.FromMinutes(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.#}s");
        }

        var text = new StringBuilder();
        if (span.Days > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{span.Days}d");
        }

        if (span.Hours > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{span.Hours}h");
        }

        if (span.Minutes > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{span.Minutes}m");
        }

        if (span.Seconds > 0 && span < TimeSpan.FromHours(1))
        {
            text.Append(CultureInfo.InvariantCulture, $"{span.Seconds}s");
        }

        return text.ToString();
    }

    [GeneratedRegex(@"(\d+(?:\.\d+)?)(ms|s|m|h|d)")]
    private static partial Regex Part();
}
