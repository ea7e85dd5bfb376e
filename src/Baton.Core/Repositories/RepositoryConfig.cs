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

    /// <summary>Hash naming chunks and packs.</summary>
    public string Hash { get; init; } = "sha256";

    /// <summary>Target pack size in bytes.</summary>
    public int PackSize { get; init; } = 32 * 1024 * 1024;

    /// <summary>Reserved for client-side encryption; <c>null</c> when the repository is not encrypted.</summary>
    public EncryptionConfig? Encryption { get; init; }
}

/// <summary>Reserved: how the repository's objects are encrypted.</summary>
public sealed record EncryptionConfig
{
    /// <summary>Authenticated cipher name.</summary>
    public required string Cipher { get; init; }
}
