using System.Buffers;
using Microsoft.ML.Tokenizers;

namespace Optimizer.Worker.Modeling.Tokenization;

/// <summary>A tokenizer whose ids pass through a <see cref="TokenIdMap"/>: the base tokenizer's pieces, compact ids.</summary>
public sealed class RemappedTokenizer(Tokenizer inner, TokenIdMap map) : Tokenizer
{
    private readonly Tokenizer _inner = inner;
    private readonly TokenIdMap _map = map;

    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var tokens = text is null
            ? _inner.EncodeToTokens(textSpan, out var normalized, settings.ConsiderPreTokenization, settings.ConsiderNormalization)
            : _inner.EncodeToTokens(text, out normalized, settings.ConsiderPreTokenization, settings.ConsiderNormalization);
        var ids = _map.Map(tokens.Select(t => t.Id));
        var mapped = tokens.Select((t, i) => new EncodedToken(ids[i], t.Value, t.Offset)).ToList();
        return new EncodeResults<EncodedToken>
        {
            Tokens = mapped,
            NormalizedText = normalized,
            CharsConsumed = text?.Length ?? textSpan.Length,
        };
    }

    /// <summary>Decodes through the base tokenizer; the unknown id decodes to nothing.</summary>
    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten) =>
        _inner.Decode(ids.Select(_map.BaseId).OfType<int>(), destination, out idsConsumed, out charsWritten);
}
