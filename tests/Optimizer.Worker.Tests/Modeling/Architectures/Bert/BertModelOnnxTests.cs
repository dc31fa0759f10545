using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Optimizer.Worker.Fixtures;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Bert;
using Optimizer.Worker.Tests.Support;
using TorchSharp;

namespace Optimizer.Worker.Tests.Modeling.Architectures.Bert;

/// <summary>The TorchSharp <see cref="BertModel"/> on the imported MiniLM against ONNX Runtime on the package's own ONNX model.</summary>
public sealed class BertModelOnnxTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    [Fact]
    public void Forward_MatchesOnnxRuntime_OnMobyDickSentences()
    {
        var sentences = MiniLm.Sentences(16);
        Assert.Equal(16, sentences.Count);
        using var folder = ModelFolder.Open(MiniLm.ModelDir);
        using var encoder = SentenceEncoder.Load(folder);
        using var session = new InferenceSession(MiniLmPackage.Load().Model);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();

        var (ids, mask) = encoder.Batch(sentences);
        var ours = encoder.Model.forward(ids, mask);
        var reference = RunOnnx(session, ids, mask);

        // Padding positions are not outputs anyone reads (and the export masks with a different constant).
        var real = mask.to(torch.ScalarType.Bool).unsqueeze(-1).expand_as(ours);
        var difference = (ours - reference).abs().masked_select(real).max().item<float>();
        var pooledDifference = (SentenceEncoder.MeanPool(ours, mask) - SentenceEncoder.MeanPool(reference, mask)).abs().max().item<float>();
        output.WriteLine($"{sentences.Count} sentences, {mask.sum().item<long>()} tokens: max |Δ| last hidden state {difference:E2}, embeddings {pooledDifference:E2}");
        Assert.True(difference <= Tolerance, $"max abs difference {difference:E3} > {Tolerance:E0}");
        Assert.True(pooledDifference <= Tolerance, $"embedding difference {pooledDifference:E3}");
    }

    private static torch.Tensor RunOnnx(InferenceSession session, torch.Tensor ids, torch.Tensor mask)
    {
        int[] shape = [(int)ids.shape[0], (int)ids.shape[1]];
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids.data<long>().ToArray(), shape)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask.data<long>().ToArray(), shape)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[ids.numel()], shape)),
        };
        using var results = session.Run(inputs, ["last_hidden_state"]);
        var hidden = results.Single().AsTensor<float>();
        return torch.tensor(hidden.ToArray(), [.. hidden.Dimensions.ToArray().Select(d => (long)d)]);
    }
}
