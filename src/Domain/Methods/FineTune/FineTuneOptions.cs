using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.FineTune;

/// <summary>
/// The options every fine-tuning method shares (ALGORITHMS.md Part A finetune row, Part C §4): what to train, how long,
/// with which optimizer, and what to write. Each method is a sealed record deriving from this one.
/// </summary>
/// <remarks>
/// Training data: <see cref="DatasetId"/>, else the job's <c>calibration_dataset_id</c>, else the built-in Moby-Dick
/// training chapters. Plain text and <c>{"text": …}</c> lines train on every token; <c>{"prompt", "completion"}</c>
/// lines train on the completion tokens only.
/// </remarks>
public abstract record FineTuneOptions : IValidatableObject
{
    public const string AdamW = "adamw";
    public const string AdamP = "adamp";
    public const string AdapterOutput = "adapter";
    public const string MergedOutput = "merged";
    public const string BothOutputs = "both";

    /// <summary>Every projection of a Llama decoder layer, by its Hugging Face name.</summary>
    public static readonly IReadOnlyList<string> KnownTargetModules =
        ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    [Description("Decoder projections that get an adapter (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj); every other weight stays frozen.")]
    public IReadOnlyList<string> TargetModules { get; init; } = ["q_proj", "v_proj"];

    [Description("Training dataset (text, jsonl_text or jsonl_pairs); default: the job's calibration_dataset_id, else the built-in Moby-Dick training chapters.")]
    public string? DatasetId { get; init; }

    [Description("Peak learning rate (reached after the warm-up, then cosine decay to lr x min_lr_ratio).")]
    [Range(1e-7, 1.0)]
    public double LearningRate { get; init; } = 2e-4;

    [Description("Warm-up steps of the cosine schedule (linear from lr/warmup_steps to lr).")]
    [Range(0, 100000)]
    public int WarmupSteps { get; init; } = 10;

    [Description("The cosine schedule ends at lr x min_lr_ratio.")]
    [Range(0.0, 1.0)]
    public double MinLrRatio { get; init; } = 0.1;

    [Description("Optimizer steps. Ignored when epochs is set.")]
    [Range(1, 1000000)]
    public int Steps { get; init; } = 100;

    [Description("Passes over the training examples; when set, steps = ceil(epochs x examples / batch_size).")]
    [Range(0.01, 1000.0)]
    public double? Epochs { get; init; }

    [Description("Sequences per optimizer step.")]
    [Range(1, 1024)]
    public int BatchSize { get; init; } = 4;

    [Description("Tokens per training sequence; capped at the model's max_position_embeddings.")]
    [Range(8, 8192)]
    public int SeqLen { get; init; } = 256;

    [Description("Dropout on the adapter's input (LoRA, PiSSA); 0 disables it.")]
    [Range(0.0, 0.9)]
    public double Dropout { get; init; }

    [Description("\"adamw\" or \"adamp\" (AdamW that strips the radial component of scale-invariant weights' updates, ALGORITHMS.md 4.4).")]
    [AllowedValues(AdamW, AdamP)]
    public string Optimizer { get; init; } = AdamW;

    [Description("Decoupled weight decay of the optimizer.")]
    [Range(0.0, 1.0)]
    public double WeightDecay { get; init; }

    [Description("Global gradient-norm clip; 0 disables clipping.")]
    [Range(0.0, 1000.0)]
    public double GradientClip { get; init; } = 1.0;

    [Description("Reparameterise every trainable weight as w = f(v) with the Weight Compander f (ALGORITHMS.md 4.5, functional form reconstructed).")]
    public bool WeightCompander { get; init; }

    [Description("Save a checkpoint every this many steps (a usable model listed by GET /v1/jobs/{id}/checkpoints, and the resume point after a crash); 0 = only at the end.")]
    [Range(0, 1000000)]
    public int CheckpointEvery { get; init; } = 50;

    [Description("\"adapter\" (PEFT layout: adapter_config.json + adapter_model.safetensors), \"merged\" (the model with the adapter folded in, Hugging Face layout) or \"both\" (one folder with both).")]
    [AllowedValues(AdapterOutput, MergedOutput, BothOutputs)]
    public string Output { get; init; } = BothOutputs;

    [Description("Seed of the data order, dropout and adapter initialisation.")]
    public int Seed { get; init; } = 1234;

    public virtual IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (TargetModules is null || TargetModules.Count == 0)
        {
            yield return new ValidationResult("target_modules must name at least one projection.", [nameof(TargetModules)]);
            yield break;
        }
        foreach (var module in TargetModules.Where(m => !KnownTargetModules.Contains(m)))
        {
            yield return new ValidationResult(
                $"target_modules: unknown module \"{module}\"; use {string.Join(", ", KnownTargetModules)}.", [nameof(TargetModules)]);
        }
        if (TargetModules.Distinct().Count() != TargetModules.Count)
        {
            yield return new ValidationResult("target_modules lists a module twice.", [nameof(TargetModules)]);
        }
    }
}
