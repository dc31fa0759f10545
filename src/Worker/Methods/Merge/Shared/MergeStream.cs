using System.Text.Json.Nodes;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Domain.Methods.Merge;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Merge.Shared;

/// <summary>
/// The streaming core every merge shares: opens the inputs memory-mapped, checks they share architecture and tensor
/// shapes, then writes the output TENSOR BY TENSOR — for each floating-point tensor it reads that one tensor of every
/// model in float32, lets the method combine them and writes the result in the reference dtype before reading the next.
/// Peak memory is one tensor per model plus the output tensor, never a whole model.
/// </summary>
/// <remarks>
/// The reference model (the base when there is one, else <c>models[0]</c>) fixes the tensor list, dtypes, config and
/// tokenizer files of the output. Non-float tensors (integer buffers) are copied from it unchanged.
/// </remarks>
public sealed class MergeStream : IDisposable
{
    /// <summary>Error code of a job whose models do not share architecture and shapes.</summary>
    public const string IncompatibleModels = "incompatible_models";

    private readonly List<ModelFolder> _opened = [];

    private MergeStream(MergeInputs inputs, ModelFolder? baseFolder, IReadOnlyList<ModelFolder> folders)
    {
        Inputs = inputs;
        BaseFolder = baseFolder;
        Folders = folders;
        Reference = baseFolder ?? folders[0];
    }

    public MergeInputs Inputs { get; }
    public ModelFolder? BaseFolder { get; }
    /// <summary>One folder per entry of <c>models[]</c> (a model listed twice is opened twice; mapping is cheap).</summary>
    public IReadOnlyList<ModelFolder> Folders { get; }
    public ModelFolder Reference { get; }
    public SourceModel ReferenceSource => Inputs.Base ?? Inputs.Models[0].Source;

    /// <summary>Opens every input and checks it against the reference.</summary>
    /// <param name="inputs">The merge's models.</param>
    /// <param name="allowSubset">Inputs may hold only some of the reference's tensors (stored RWS signatures).</param>
    /// <exception cref="JobFailedException"><see cref="IncompatibleModels"/> naming the first tensor that differs.</exception>
    public static MergeStream Open(MergeInputs inputs, bool allowSubset = false)
    {
        if (inputs.Models.Count == 0)
        {
            throw new JobFailedException(JobErrorCodes.InvalidParams, "The merge names no models.");
        }
        var opened = new List<ModelFolder>();
        try
        {
            var baseFolder = inputs.Base is null ? null : Track(opened, ModelFiles.OpenSource(inputs.Base.LocalDir));
            var folders = inputs.Models.Select(m => Track(opened, ModelFiles.OpenSource(m.Source.LocalDir))).ToList();
            var stream = new MergeStream(inputs, baseFolder, folders);
            stream._opened.AddRange(opened);
            stream.CheckCompatible(allowSubset);
            return stream;
        }
        catch
        {
            opened.ForEach(f => f.Dispose());
            throw;
        }
    }

    /// <summary>Name → shape of every tensor of a folder.</summary>
    public static Dictionary<string, long[]> Shapes(ModelFolder folder) =>
        folder.TensorNames.ToDictionary(n => n, n => folder.GetEntry(n).Shape, StringComparer.Ordinal);

    /// <summary>
    /// Writes the merged model into the job's output folder and describes it.
    /// </summary>
    /// <param name="context">The job.</param>
    /// <param name="spec">Method name, what to combine and how the output is described.</param>
    /// <param name="cancellationToken">Checked before each tensor.</param>
    public async Task<PipelineResult> WriteAsync(PipelineContext context, MergeWriteSpec spec, CancellationToken cancellationToken)
    {
        var names = Reference.TensorNames.Where(spec.Include ?? (_ => true)).ToList();
        if (names.Count == 0)
        {
            throw new JobFailedException(JobErrorCodes.InvalidParams, "No tensor of the reference model is selected; nothing to write.");
        }
        var writer = new SafetensorsWriter();
        writer.Metadata["merged_by"] = "optimizer/" + spec.Method;
        var weights = Inputs.Models.Select(m => m.Weight).ToList();
        var done = 0;
        long elements = 0;
        foreach (var name in names)
        {
            var entry = Reference.GetEntry(name);
            elements += entry.ElementCount;
            if (!WeightBytes.IsFloat(entry.Dtype))
            {
                writer.Add(name, entry.Dtype, entry.Shape, () => Reference.ReadTensor(name));
                continue;
            }
            var dtype = spec.OutputDtype ?? entry.Dtype;
            writer.Add(name, dtype, entry.Shape, () =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                Tensor merged;
                using (var scope = torch.NewDisposeScope())
                {
                    var tensors = new MergeTensors(name, BaseFolder is null ? null : ReadFloat(BaseFolder, name),
                        Folders.Select(f => f.ContainsTensor(name) ? ReadFloat(f, name) : null).ToList(), weights);
                    merged = spec.Combine(tensors).to_type(dtype.ToTorch()).contiguous().MoveToOuterDisposeScope();
                }
                done++;
                // Called on the writer's thread; the reporter is safe to block on there.
                context.Progress.ReportAsync("merge", 0.05 + 0.85 * done / names.Count, name, cancellationToken).GetAwaiter().GetResult();
                return merged;
            });
        }
        await Task.Run(() => writer.Save(Path.Combine(context.OutputDir, ModelFolder.SingleFileName)), cancellationToken);
        ModelFiles.WriteConfig(Reference, context.OutputDir, config =>
        {
            config["merge_config"] = MergeConfig(spec);
            spec.EditConfig?.Invoke(config);
        });
        ModelFiles.CopySideFiles(ReferenceSource.LocalDir, context.OutputDir);
        await context.Progress.ReportAsync("merge", 0.9, "Written", cancellationToken);

        var source = ReferenceSource.Model;
        var info = new OutputModelInfo(
            $"{Inputs.Models[0].Source.Model.Name}-{spec.Method}",
            Reference.Config.Architectures.FirstOrDefault() ?? source.Architecture,
            elements,
            spec.OutputDtype is { } forced ? DtypeName(forced) : string.IsNullOrEmpty(source.Dtype) ? Reference.Config.TorchDtype ?? "float32" : source.Dtype);
        var metrics = new Dictionary<string, object?>(spec.Metrics ?? new Dictionary<string, object?>())
        {
            ["merge_method"] = spec.Method,
            ["merged_tensors"] = names.Count,
            ["models"] = Inputs.Models.Count,
        };
        return PipelineResult.ForModel(info, metrics);
    }

    private JsonObject MergeConfig(MergeWriteSpec spec)
    {
        var models = new JsonArray();
        foreach (var input in Inputs.Models)
        {
            models.Add(new JsonObject { ["model_id"] = input.Source.Model.Id, ["weight"] = input.Weight });
        }
        return new JsonObject
        {
            ["method"] = spec.Method,
            ["base_model_id"] = Inputs.Base?.Model.Id,
            ["models"] = models,
        };
    }

    private static Tensor ReadFloat(ModelFolder folder, string name)
    {
        var stored = folder.ReadTensor(name);
        return stored.dtype == ScalarType.Float32 ? stored : stored.to_type(ScalarType.Float32);
    }

    private static string DtypeName(SafetensorsDtype dtype) => dtype switch
    {
        SafetensorsDtype.F16 => "float16",
        SafetensorsDtype.BF16 => "bfloat16",
        SafetensorsDtype.F64 => "float64",
        _ => "float32",
    };

    private void CheckCompatible(bool allowSubset)
    {
        var referenceField = Inputs.Base is null ? Inputs.Models[0].Field : "base_model_id";
        var architecture = Reference.Config.Architectures.FirstOrDefault();
        var shapes = Shapes(Reference);
        for (var i = 0; i < Folders.Count; i++)
        {
            if (ReferenceEquals(Folders[i], Reference))
            {
                continue;
            }
            var field = Inputs.Models[i].Field;
            var other = Folders[i].Config.Architectures.FirstOrDefault();
            if (!string.Equals(other, architecture, StringComparison.Ordinal))
            {
                throw new JobFailedException(IncompatibleModels,
                    $"{field} is a {other} but {referenceField} is a {architecture}; merged models must share their architecture.");
            }
            if (MergeShapes.FirstMismatch(shapes, Shapes(Folders[i]), allowSubset) is { } mismatch)
            {
                throw new JobFailedException(IncompatibleModels, $"{field} does not match {referenceField}: {mismatch}");
            }
        }
    }

    private static ModelFolder Track(List<ModelFolder> opened, ModelFolder folder)
    {
        opened.Add(folder);
        return folder;
    }

    public void Dispose() => _opened.ForEach(f => f.Dispose());
}

/// <summary>How a merge method fills the output.</summary>
/// <param name="Method">Method name (recorded in the output's config and metadata).</param>
/// <param name="Combine">Merges one tensor's float32 values (may return a new tensor or one of its inputs' derivatives).</param>
public sealed record MergeWriteSpec(string Method, Func<MergeTensors, Tensor> Combine)
{
    /// <summary>Which reference tensors the output holds (default: all).</summary>
    public Func<string, bool>? Include { get; init; }
    /// <summary>Forces the output dtype of float tensors (default: each tensor's reference dtype).</summary>
    public SafetensorsDtype? OutputDtype { get; init; }
    /// <summary>Further edits of the output config.json.</summary>
    public Action<JsonObject>? EditConfig { get; init; }
    /// <summary>Extra job metrics.</summary>
    public IReadOnlyDictionary<string, object?>? Metrics { get; init; }
}
