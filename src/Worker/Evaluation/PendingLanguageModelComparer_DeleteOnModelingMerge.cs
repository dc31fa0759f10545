namespace Optimizer.Worker.Evaluation;

/// <summary>TEMPORARY until modeling's LlamaForCausalLM and metrics are merged: reports that the model cannot run yet.</summary>
internal sealed class PendingLanguageModelComparer : ILanguageModelComparer
{
    public Task<LanguageModelEvaluation> CompareAsync(LanguageModelComparisonRequest request, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Language-model evaluation is not available in this build yet.");
}
