using System.Text;

namespace Baton.Supervision;

/// <summary>Splits an argument string the way a POSIX shell would (quotes and backslashes), without expanding anything.</summary>
public static class ArgumentSplitter
{
    /// <summary>Splits <paramref name="text"/> into arguments.</summary>
    /// <exception cref="UsageException">A quote is not closed.</exception>
    public static IReadOnlyList<string> Split(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new List<string>();
        var current = new StringBuilder();
        var inArgument = false;
        char? quote = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote == '\'')
            {
                if (c == '\'')
                {
                    quote = null;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == '\\' && i + 1 < text.Length && (quote is null || text[i + 1] is '"' or '\\' or '$' or '`'))
            {
                current.Append(text[++i]);
                inArgument = true;
            }
            else if (quote == '"')
            {
                if (c == '"')
                {
                    quote = null;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                inArgument = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inArgument)
                {
                    result.Add(current.ToString());
                    current.Clear();
                    inArgument = false;
                }
            }
            else
            {
                current.Append(c);
                inArgument = true;
            }
        }

        if (quote is not null)
        {
            throw new UsageException($"unclosed {quote} in '{text}'");
        }

        if (inArgument)
        {
            result.Add(current.ToString());
        }

        return result;
    }
}
