namespace Optimizer.Domain.Models;

/// <summary>The <c>config.json</c> <c>architectures</c> the service accepts on upload.</summary>
public static class SupportedArchitectures
{
    public static readonly IReadOnlyList<string> All =
        ["LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "BertModel", "GPT2LMHeadModel"];

    public static bool IsSupported(string? architecture) => architecture is not null && All.Contains(architecture);
}
