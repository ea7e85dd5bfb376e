using System.Text.Json.Serialization;

namespace Baton.Encryption;

/// <summary>
/// A <c>keys/ID</c> object (plain JSON): the master secret sealed under a key-encryption key derived from one
/// password or key file. A repository opens with any of its slots; adding or removing one never touches data.
/// </summary>
public sealed record KeySlot
{
    /// <summary>The slot format this build writes and reads.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Format version of the slot.</summary>
    public int Version { get; init; } = CurrentVersion;

    /// <summary>Random id; the object is <c>keys/ID</c>.</summary>
    public required string Id { get; init; }

    /// <summary>When the slot was added.</summary>
    public DateTimeOffset Created { get; init; }

    /// <summary>The host that added it.</summary>
    public string Host { get; init; } = "";

    /// <summary><c>password</c> or <c>key-file</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>How the key-encryption key is derived.</summary>
    public required SlotKdf Kdf { get; init; }

    /// <summary>Base64 of 16 bytes derived from the key-encryption key: tells a wrong password from a damaged slot.</summary>
    public required string Check { get; init; }

    /// <summary>Base64 of the sealed master secret (<c>nonce | ciphertext | tag</c>).</summary>
    public required string Master { get; init; }
}

/// <summary>The key derivation of one slot.</summary>
public sealed record SlotKdf
{
    /// <summary><c>argon2id</c> (passwords) or <c>hkdf-sha256</c> (key files).</summary>
    public required string Algorithm { get; init; }

    /// <summary>Base64 of the random salt.</summary>
    public required string Salt { get; init; }

    /// <summary>Argon2id memory in KiB.</summary>
    public int? MemoryKiB { get; init; }

    /// <summary>Argon2id passes.</summary>
    public int? Iterations { get; init; }

    /// <summary>Argon2id lanes.</summary>
    public int? Parallelism { get; init; }
}

/// <summary>Argon2id cost parameters.</summary>
/// <param name="MemoryKiB">Memory in KiB.</param>
/// <param name="Iterations">Passes over the memory.</param>
/// <param name="Parallelism">Lanes.</param>
public sealed record Argon2Parameters(int MemoryKiB, int Iterations, int Parallelism)
{
    /// <summary>
    /// 32 MiB, 2 passes, 2 lanes: about 0.3 s of CPU per open with the managed implementation, above OWASP's minimum
    /// (19 MiB, 2 passes). Each key records its own parameters, so the default can rise without breaking old keys.
    /// </summary>
    public static Argon2Parameters Default { get; } = new(32 * 1024, 2, 2);

    /// <summary>The bound <see cref="IsReasonable"/> enforces, as README states it.</summary>
    public const string Bound = "1 to 16 lanes, 1 to 64 passes, 8 KiB per lane to 4 GiB of memory, and at most 16 GiB of memory passes in all";

    /// <summary>
    /// Whether a reader should run these (a hostile or damaged slot must not make it allocate terabytes or run for
    /// hours): each parameter is bounded, and so is their product (memory times passes), the time one open takes.
    /// </summary>
    [JsonIgnore]
    public bool IsReasonable => Parallelism is >= 1 and <= 16 && Iterations is >= 1 and <= 64
        && MemoryKiB >= 8 * Parallelism && MemoryKiB <= 4 * 1024 * 1024
        && (long)MemoryKiB * Iterations <= 16L * 1024 * 1024;
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(KeySlot))]
internal sealed partial class EncryptionJson : JsonSerializerContext;
