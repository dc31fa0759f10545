namespace Optimizer.Worker.Hosting;

/// <summary>TEMPORARY: replaced by a call into modeling's <c>MobyDickCorpus</c> once that branch is merged.</summary>
internal static class BuiltinCorpus
{
    public static (string HeldOut, string Calibration) Load(string corpusDir) =>
        throw new NotSupportedException($"MobyDickCorpus is not merged yet ({corpusDir}).");
}
