using System.Globalization;
using System.Text.RegularExpressions;

namespace Optimizer.Worker.Methods.Merge.Shared;

/// <summary>The decoder layer a tensor belongs to, from its Hugging Face name (<c>model.layers.N.…</c>).</summary>
public static partial class DecoderLayer
{
    /// <summary>N for <c>*.layers.N.*</c>; null for tensors outside the decoder layers (embeddings, final norm, head).</summary>
    public static int? IndexOf(string tensorName)
    {
        var match = Pattern().Match(tensorName);
        return match.Success && int.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            ? index
            : null;
    }

    [GeneratedRegex(@"\.layers\.(\d+)\.")]
    private static partial Regex Pattern();
}
