using System.Text.Json;

namespace Baton.Testing;

/// <summary>Reads the JSON Lines stream that <c>--json</c> prints for push, pull, stage, prune and check.</summary>
public static class JsonLines
{
    /// <summary>Every line as a JSON object; fails naming the line that is not one.</summary>
    public static IReadOnlyList<JsonElement> Parse(string output)
    {
        var events = new List<JsonElement>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                using var document = JsonDocument.Parse(line);
                Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
                events.Add(document.RootElement.Clone());
            }
            catch (JsonException e)
            {
                Assert.Fail($"not a JSON line ({e.Message}): {line}");
            }
        }

        return events;
    }

    /// <summary>The result event, which must be the last line and the only one.</summary>
    public static JsonElement Result(string output)
    {
        var events = Parse(output);
        Assert.True(events.Count > 0, "no JSON lines printed");
        Assert.Single(events, e => Event(e) == "result");
        Assert.Equal("result", Event(events[^1]));
        return events[^1];
    }

    /// <summary>The value of a line's <c>event</c> field.</summary>
    public static string? Event(JsonElement line) =>
        line.TryGetProperty("event", out var name) ? name.GetString() : null;
}
