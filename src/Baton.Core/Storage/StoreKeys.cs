namespace Baton.Storage;

/// <summary>Validation of object keys, shared by every store so that none can be tricked out of its root.</summary>
public static class StoreKeys
{
    /// <summary>Throws <see cref="ArgumentException"/> when <paramref name="key"/> is not a safe relative key.</summary>
    public static void Validate(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (key[0] == '/' || key.Contains('\\', StringComparison.Ordinal) || key.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"invalid object key '{key}'", nameof(key));
        }

        foreach (var segment in key.Split('/'))
        {
            if (segment.Length == 0 || segment == "." || segment == "..")
            {
                throw new ArgumentException($"invalid object key '{key}'", nameof(key));
            }
        }
    }
}
