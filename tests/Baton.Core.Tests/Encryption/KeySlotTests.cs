using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Encryption;
using Baton.Repositories;
using Baton.Snapshots;
using Baton.Storage;
using Baton.Storage.Folder;
using Baton.Testing;

namespace Baton.Tests.Encryption;

public sealed class KeySlotTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 60_000)]
    public async Task The_right_password_opens_an_encrypted_repository()
    {
        var store = Store();
        var created = await Repository.InitAsync(store, TestKeys.Encrypted("pw-1"));
        var opened = await Repository.OpenAsync(store, TestKeys.Encrypted("pw-1"));

        Assert.True(opened.Cipher.IsEncrypted);
        Assert.Equal(created.Keys.Current.Id, opened.Keys.Current.Id);
        Assert.Equal(created.Cipher.ChunkId("same"u8), opened.Cipher.ChunkId("same"u8));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_wrong_password_is_an_access_error_that_says_wrong_password_and_not_the_password()
    {
        var store = Store();
        await Repository.InitAsync(store, TestKeys.Encrypted("the-right-one"));

        var error = await Assert.ThrowsAsync<BatonException>(() => Repository.OpenAsync(store, TestKeys.Encrypted("a-wrong-guess")));

        Assert.Equal(ErrorCategory.Access, error.Category);
        Assert.StartsWith("wrong password", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("a-wrong-guess", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("the-right-one", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_encrypted_repository_opened_without_credentials_says_how_to_give_them()
    {
        var store = Store();
        await Repository.InitAsync(store, TestKeys.Encrypted());

        var error = await Assert.ThrowsAsync<BatonException>(() => Repository.OpenAsync(store, TestKeys.Options(null)));

        Assert.Equal(ErrorCategory.Access, error.Category);
        Assert.Contains("--password-file", error.Message, StringComparison.Ordinal);
        Assert.Contains("BATON_PASSWORD", error.Message, StringComparison.Ordinal);
        Assert.Contains("--key-file", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_plain_repository_refuses_credentials_so_nobody_believes_it_encrypted()
    {
        var store = Store();
        await Repository.InitAsync(store, TestKeys.Options(null));

        var error = await Assert.ThrowsAsync<UsageException>(() => Repository.OpenAsync(store, TestKeys.Encrypted()));

        Assert.Contains("not encrypted", error.Message, StringComparison.Ordinal);
        var plain = await Repository.OpenAsync(store);
        Assert.Throws<UsageException>(() => plain.Keys);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_key_file_opens_the_repository_and_a_short_one_is_refused()
    {
        var keyFile = _temp.Combine("key");
        await File.WriteAllBytesAsync(keyFile, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var store = Store();
        await Repository.InitAsync(store, TestKeys.Options(RepositoryCredentials.FromKeyFile(keyFile, "--key-file key")));

        var opened = await Repository.OpenAsync(store, TestKeys.Options(RepositoryCredentials.FromKeyFile(keyFile, "--key-file key")));
        Assert.Equal("key-file", opened.Keys.Current.Kind);

        var other = _temp.Combine("other");
        await File.WriteAllBytesAsync(other, System.Security.Cryptography.RandomNumberGenerator.GetBytes(64));
        var wrong = await Assert.ThrowsAsync<BatonException>(() => Repository.OpenAsync(store, TestKeys.Options(RepositoryCredentials.FromKeyFile(other, "--key-file other"))));
        Assert.StartsWith("wrong key file", wrong.Message, StringComparison.Ordinal);

        var password = await Assert.ThrowsAsync<BatonException>(() => Repository.OpenAsync(store, TestKeys.Encrypted()));
        Assert.Equal(ErrorCategory.Access, password.Category);

        await File.WriteAllBytesAsync(other, new byte[31]);
        Assert.Throws<UsageException>(() => RepositoryCredentials.FromKeyFile(other, "--key-file other"));
    }

    [Fact]
    public void A_password_file_loses_one_trailing_line_break_and_never_shows_its_content()
    {
        var file = _temp.Combine("pw");
        File.WriteAllText(file, "s3cret phrase\r\n");
        var credentials = RepositoryCredentials.FromPasswordFile(file, "--password-file pw");

        Assert.Equal("s3cret phrase", Encoding.UTF8.GetString(credentials.Secret));
        Assert.Equal("the password from --password-file pw", credentials.ToString());
        File.WriteAllText(file, "\n");
        Assert.Throws<UsageException>(() => RepositoryCredentials.FromPasswordFile(file, "--password-file pw"));
        Assert.Throws<UsageException>(() => RepositoryCredentials.FromPasswordFile(_temp.Combine("missing"), "--password-file missing"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Keys_can_be_added_and_removed_without_touching_any_other_object()
    {
        var store = Store();
        var repository = await Repository.InitAsync(store, TestKeys.Encrypted("old"));
        var source = _temp.Combine("src");
        TestData.WriteRandomFile(Path.Combine(source, "w.bin"), 300_000, 1);
        await repository.PushAsync(source, "r");
        var before = await SnapshotOfStoreAsync(store);

        var added = await repository.Keys.AddAsync(TestKeys.Password("new"));
        var withNew = await Repository.OpenAsync(store, TestKeys.Encrypted("new"));
        Assert.Equal(added.Id, withNew.Keys.Current.Id);
        Assert.Equal(2, (await withNew.Keys.ListAsync()).Count);

        await Assert.ThrowsAsync<UsageException>(() => withNew.Keys.RemoveAsync(added.Id)); // the key in use
        await withNew.Keys.RemoveAsync(repository.Keys.Current.Id[..6]);

        await Assert.ThrowsAsync<BatonException>(() => Repository.OpenAsync(store, TestKeys.Encrypted("old")));
        var error = await Assert.ThrowsAsync<UsageException>(() => withNew.Keys.RemoveAsync(added.Id));
        Assert.Contains("last key", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotOfStoreAsync(store));

        var restored = _temp.Combine("dst");
        await withNew.RestoreAsync((await withNew.FindSnapshotAsync("r"))!, restored);
        TestData.AssertSameTree(source, restored);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_damaged_key_that_the_password_fits_is_an_integrity_error_not_a_wrong_password()
    {
        var store = Store();
        var repository = await Repository.InitAsync(store, TestKeys.Encrypted());
        var key = "keys/" + repository.Keys.Current.Id;
        var slot = JsonNode.Parse(await store.ReadAllAsync(key))!;
        var master = Convert.FromBase64String(slot["master"]!.GetValue<string>());
        master[20] ^= 1;
        slot["master"] = Convert.ToBase64String(master);
        await store.PutAsync(key, Encoding.UTF8.GetBytes(slot.ToJsonString()), PutMode.Overwrite);

        await Assert.ThrowsAsync<IntegrityException>(() => Repository.OpenAsync(store, TestKeys.Encrypted()));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_key_copied_from_another_repository_opens_nothing()
    {
        var mine = Store("mine");
        var theirs = Store("theirs");
        await Repository.InitAsync(mine, TestKeys.Encrypted("mine"));
        var other = await Repository.InitAsync(theirs, TestKeys.Encrypted("theirs"));
        var key = "keys/" + other.Keys.Current.Id;
        await mine.PutAsync(key, await theirs.ReadAllAsync(key), PutMode.CreateNew);

        await Assert.ThrowsAsync<IntegrityException>(() => Repository.OpenAsync(mine, TestKeys.Encrypted("theirs")));
        Assert.NotNull(await Repository.OpenAsync(mine, TestKeys.Encrypted("mine")));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_key_with_an_absurd_memory_cost_is_refused_by_name_instead_of_run()
    {
        var store = Store();
        var repository = await Repository.InitAsync(store, TestKeys.Encrypted());
        var key = "keys/" + repository.Keys.Current.Id;
        var slot = JsonNode.Parse(await store.ReadAllAsync(key))!;
        slot["kdf"]!["memoryKiB"] = int.MaxValue;
        await store.PutAsync(key, Encoding.UTF8.GetBytes(slot.ToJsonString()), PutMode.Overwrite);

        // Not "wrong password": the password may be right, the slot is what is wrong.
        var error = await Assert.ThrowsAsync<IntegrityException>(() => Repository.OpenAsync(store, TestKeys.Encrypted()));
        Assert.Contains($"key {key} ", error.Message, StringComparison.Ordinal);
        Assert.Contains("not tried", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_config_holds_no_secret_and_names_the_cipher_and_keyed_hash()
    {
        var store = Store();
        await Repository.InitAsync(store, TestKeys.Encrypted());

        using var config = JsonDocument.Parse(await store.ReadAllAsync("config"));
        var root = config.RootElement;
        Assert.Equal(1, root.GetProperty("version").GetInt32());
        Assert.Equal("hmac-sha256", root.GetProperty("hash").GetString());
        Assert.Equal("aes-256-gcm", root.GetProperty("encryption").GetProperty("cipher").GetString());
        Assert.Equal(64, root.GetProperty("encryption").GetProperty("kdf").GetProperty("memoryKiB").GetInt32());
        Assert.Equal(0UL, root.GetProperty("chunker").GetProperty("seed").GetUInt64());
    }

    private FolderStore Store(string name = "store") => new(_temp.Combine(name));

    private static async Task<Dictionary<string, string>> SnapshotOfStoreAsync(IObjectStore store)
    {
        var result = new Dictionary<string, string>();
        foreach (var info in (await store.ListAllAsync("")).Where(i => !i.Key.StartsWith("keys/", StringComparison.Ordinal)))
        {
            result[info.Key] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(await store.ReadAllAsync(info.Key)));
        }

        return result;
    }

    public void Dispose() => _temp.Dispose();
}
