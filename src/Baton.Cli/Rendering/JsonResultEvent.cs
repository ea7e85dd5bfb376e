using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Baton.Cli.Rendering;

/// <summary>
/// The last line of a <c>--json</c> stream: <c>{"event":"result","verb":...}</c> followed by the fields of the
/// command's result document, on one line.
/// </summary>
internal static class JsonResultEvent
{
    public static void Write<T>(TextWriter output, string verb, T result, JsonTypeInfo<T> typeInfo)
    {
        var document = JsonSerializer.SerializeToElement(result, typeInfo);
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("event", "result");
            json.WriteString("verb", verb);
            foreach (var property in document.EnumerateObject())
            {
                property.WriteTo(json);
            }

            json.WriteEndObject();
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
        output.Flush();
    }
}
