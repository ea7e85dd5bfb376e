using System.Buffers;
using System.Buffers.Binary;
using Baton.Compression;
using Baton.Encryption;

namespace Baton.Packs;

/// <summary>A sealed pack, ready to upload. Return its buffer with <see cref="Dispose"/> once written.</summary>
public sealed class SealedPack : IDisposable
{
    private readonly ArrayPool<byte> _pool;
    private byte[]? _buffer;

    internal SealedPack(ContentId id, byte[] buffer, int length, IReadOnlyList<PackEntry> entries, ArrayPool<byte> pool)
    {
        Id = id;
        _pool = pool;
        _buffer = buffer;
        Length = length;
        Entries = entries;
    }

    /// <summary>The pack's name in the store: the SHA-256 of its header and trailer (see <see cref="PackFormat.IdOf"/>).</summary>
    public ContentId Id { get; }

    /// <summary>The blobs in the pack.</summary>
    public IReadOnlyList<PackEntry> Entries { get; }

    /// <summary>Size of the pack in bytes.</summary>
    public int Length { get; }

    /// <summary>The pack's bytes.</summary>
    public ReadOnlyMemory<byte> Bytes => (_buffer ?? throw new ObjectDisposedException(nameof(SealedPack))).AsMemory(0, Length);

    /// <inheritdoc />
    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            _pool.Return(buffer);
        }
    }
}

/// <summary>
/// Appends encoded blobs into one in-memory pack until it reaches its target size; in an encrypted repository each
/// blob and the header are sealed as they go in. Not thread-safe.
/// </summary>
public sealed class PackBuilder : IDisposable
{
    private readonly List<PackEntry> _entries = [];
    private readonly IRepositoryCipher _cipher;
    private readonly ArrayPool<byte> _pool;
    private byte[] _buffer;
    private int _length;

    /// <summary>
    /// Starts an empty pack with room for about <paramref name="targetSize"/> bytes, its buffers taken from
    /// <paramref name="pool"/> (the shared pool by default; a sealed pack returns its buffer there when disposed).
    /// </summary>
    /// <param name="targetSize">The size at which the pack should be sealed.</param>
    /// <param name="cipher">The repository's cipher; plaintext when omitted.</param>
    /// <param name="pool">Where the pack's buffer comes from.</param>
    public PackBuilder(int targetSize, IRepositoryCipher? cipher = null, ArrayPool<byte>? pool = null)
    {
        _cipher = cipher ?? PlaintextCipher.Instance;
        TargetSize = targetSize;
        _pool = pool ?? ArrayPool<byte>.Shared;
        _buffer = _pool.Rent(targetSize + (targetSize / 4));
        PackFormat.Magic.CopyTo(_buffer);
        _length = PackFormat.Magic.Length;
    }

    /// <summary>The size at which the pack should be sealed.</summary>
    public int TargetSize { get; }

    /// <summary>Bytes of blob data so far.</summary>
    public int Length => _length;

    /// <summary>Number of blobs so far.</summary>
    public int Count => _entries.Count;

    /// <summary>Whether the pack has reached its target size.</summary>
    public bool IsFull => _length >= TargetSize;

    /// <summary>Appends one encoded blob.</summary>
    public void Add(ContentId id, BlobCodec codec, ReadOnlySpan<byte> encoded, int rawLength)
    {
        Reserve(encoded.Length + _cipher.Overhead);
        var stored = _cipher.IsEncrypted ? _cipher.Seal(SealedKind.Blob, encoded, _buffer.AsSpan(_length)) : Copy(encoded, _buffer.AsSpan(_length));
        _entries.Add(new PackEntry(id, _length, stored, rawLength, codec));
        _length += stored;
    }

    /// <summary>
    /// Appends a blob exactly as another pack stores it (already encoded, and sealed in an encrypted repository), for
    /// repacking: blobs are sealed without reference to their pack or offset, so their bytes move unchanged.
    /// </summary>
    public void AddStored(ContentId id, BlobCodec codec, ReadOnlySpan<byte> stored, int rawLength)
    {
        Reserve(stored.Length);
        stored.CopyTo(_buffer.AsSpan(_length));
        _entries.Add(new PackEntry(id, _length, stored.Length, rawLength, codec));
        _length += stored.Length;
    }

    /// <summary>Writes the header and trailer and hands the bytes over; the builder is empty afterwards.</summary>
    public SealedPack Seal()
    {
        var recordsSize = _entries.Count * PackFormat.RecordSize;
        var headerSize = recordsSize + _cipher.Overhead + PackFormat.TrailerSize;
        Reserve(headerSize);
        var span = _buffer.AsSpan(_length);
        if (_cipher.IsEncrypted)
        {
            var records = ArrayPool<byte>.Shared.Rent(recordsSize);
            WriteRecords(records);
            span = span[_cipher.Seal(SealedKind.PackHeader, records.AsSpan(0, recordsSize), span)..];
            ArrayPool<byte>.Shared.Return(records);
        }
        else
        {
            WriteRecords(span);
            span = span[recordsSize..];
        }

        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)_entries.Count);
        PackFormat.Magic.CopyTo(span[4..]);
        var total = _length + headerSize;
        var sealedPack = new SealedPack(PackFormat.IdOf(_buffer.AsSpan(0, total), _cipher), _buffer, total, _entries.ToArray(), _pool);

        _buffer = _pool.Rent(TargetSize + (TargetSize / 4));
        PackFormat.Magic.CopyTo(_buffer);
        _length = PackFormat.Magic.Length;
        _entries.Clear();
        return sealedPack;
    }

    /// <inheritdoc />
    public void Dispose() => _pool.Return(_buffer);

    private static int Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        source.CopyTo(destination);
        return source.Length;
    }

    private void WriteRecords(Span<byte> destination)
    {
        foreach (var entry in _entries)
        {
            PackFormat.WriteRecord(destination, entry);
            destination = destination[PackFormat.RecordSize..];
        }
    }

    private void Reserve(int extra)
    {
        if (_length + extra <= _buffer.Length)
        {
            return;
        }

        var bigger = _pool.Rent(Math.Max(_buffer.Length * 2, _length + extra));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        _pool.Return(_buffer);
        _buffer = bigger;
    }
}
