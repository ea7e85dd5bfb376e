using Spectre.Console;
using Spectre.Console.Rendering;

namespace Baton.Cli.Rendering;

/// <summary>The live bar's text column: bytes done and total, the smoothed rate, the ETA and the files.</summary>
internal sealed class TransferColumn(TransferMeter meter) : ProgressColumn
{
    protected override bool NoWrap => true;

    public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
        new Text(meter.Started ? ProgressText.Details(meter.Read()) : "starting");
}
