using System.Diagnostics;
using System.Text.RegularExpressions;
using Baton.Testing;

namespace Baton.Tests.Report;

public sealed class ReportTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact(Timeout = 300_000)]
    public async Task The_report_is_one_self_contained_page_that_chromium_renders_with_its_timeline()
    {
        var store = _temp.Combine("store");
        for (var step = 1; step <= 3; step++)
        {
            TestData.WriteRandomFile(_temp.Combine("ckpt", "w.bin"), 300_000, step);
            Assert.Equal(0, (await BatonCli.RunAsync(["push", _temp.Combine("ckpt"), "--store", store, "--run", "r", "--step", $"{step * 100}", "--quiet"])).ExitCode);
        }

        var page = _temp.Combine("report.html");
        var report = await BatonCli.RunAsync(["report", "--store", store, "--run", "r", "-o", page]);
        Assert.True(report.ExitCode == 0, report.ToString());
        var html = await File.ReadAllTextAsync(page);
        Assert.DoesNotMatch("(src|href)=\"(https?:)?//", html); // no network assets
        Assert.Equal(3, Regex.Matches(html, "class=\"checkpoint\"").Count);
        // Both charts have an axis: elapsed time on the timeline, the step of each checkpoint under the bars.
        Assert.Equal(6, Regex.Matches(html, "<text class=\"axis\"[^>]*>\\+[^<]+</text>").Count);
        foreach (var step in new[] { "100", "300" }) // labels are spaced so that they never overlap: every other bar here
        {
            Assert.Matches($"<text class=\"axis\"[^>]*text-anchor=\"middle\">{step}</text>", html);
        }

        Assert.Contains("checkpoint cost to training", html, StringComparison.Ordinal);

        // Rendered by a real browser: the DOM it builds holds the timeline, the pushes chart and the tables.
        var dom = await ChromiumAsync("--dump-dom", $"file://{page}");
        Assert.Contains("id=\"timeline\"", dom, StringComparison.Ordinal);
        Assert.Contains("id=\"pushes\"", dom, StringComparison.Ordinal);
        Assert.Contains("id=\"advice\"", dom, StringComparison.Ordinal);
        var screenshot = _temp.Combine("report.png");
        await ChromiumAsync($"--screenshot={screenshot}", "--window-size=1100,900", $"file://{page}");

        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is (nearly) empty");
    }

    private static async Task<string> ChromiumAsync(params string[] args)
    {
        var info = new ProcessStartInfo("chromium") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars" }.Concat(args))
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("chromium is not installed: run eng/install-test-deps.sh");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"chromium exited {process.ExitCode}: {await error}");
        return await output;
    }

    public void Dispose() => _temp.Dispose();
}
