using Baton.Chunking;

namespace Baton.Repositories;

/// <summary>The <c>config</c> object: what a reader must know before it reads anything else.</summary>
public sealed record RepositoryConfig
{
    /// <summary>The format version this build writes and the newest it reads.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Always <c>baton-repository</c>; tells a Baton config from a stray file.</summary>
    public string Format { get; init; } = "baton-repository";

    /// <summary>Format version; a reader refuses a version newer than it knows.</summary>
    public int Version { get; init; } = CurrentVersion;

    /// <summary>Random id of this repository.</summary>
    public required string Id { get; init; }

    /// <summary>When the repository was created.</summary>
    public DateTimeOffset Created { get; init; }

    /// <summary>Content-defined chunking parameters, fixed for the repository's life.</summary>
    public required ChunkerParameters Chunker { get; init; }

    /// <summary>How chunks are named: <c>sha256</c>, or <c>hmac-sha256</c> (keyed) in an encrypted repository. Packs and
    /// index objects are always named by the SHA-256 of their stored bytes.</summary>
    public string Hash { get; init; } = "sha256";

    /// <summary>Target pack size in bytes.</summary>
    public int PackSize { get; init; } = 32 * 1024 * 1024;

    /// <summary>Client-side encryption; <c>null</c> when the repository is not encrypted.</summary>
    public EncryptionConfig? Encryption { get; init; }
}

/// <summary>How the repository's objects are encrypted (docs/FORMAT.md, "Encryption"). Holds no secret.</summary>
public sealed record EncryptionConfig
{
    /// <summary>Authenticated cipher name: <c>aes-256-gcm</c>.</summary>
    public required string Cipher { get; init; }

    /// <summary>Argon2id cost of new password keys (each key records its own).</summary>
    public Encryption.Argon2Parameters? Kdf { get; init; }
}
