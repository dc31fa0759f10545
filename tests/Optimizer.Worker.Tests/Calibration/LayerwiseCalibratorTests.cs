using Optimizer.Worker.Calibration;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Calibration;

public sealed class LayerwiseCalibratorTests
{
    [Fact]
    public void Run_FeedsTheModifiedBlockForward_WhenPropagationIsModified()
    {
        using var model = RandomModel();
        using var windows = Windows();
        using var expected = ExpectedBlockOneInputAfterIdentityBlockZero(model, windows);
        var observer = new ZeroingObserver(block: 0, names: ["self_attn.o_proj", "mlp.down_proj"]);

        LayerwiseCalibrator.Run(model, windows, new CalibrationSettings(BatchSize: 2), observer, _ => { }, CancellationToken.None);

        // Block 0 with o_proj and down_proj zeroed is the identity, so block 1's q_proj reads norm1(embeddings).
        Assert.True(observer.Concatenated(1, "self_attn.q_proj").allclose(expected, rtol: 1e-5, atol: 1e-6));
        observer.Dispose();
    }

    [Fact]
    public void Run_FeedsTheUnmodifiedOutputForward_WhenPropagationIsFullPrecision()
    {
        using var model = RandomModel();
        using var windows = Windows();
        using var identity = ExpectedBlockOneInputAfterIdentityBlockZero(model, windows);
        using var dense = DenseBlockOneInput(model, windows);
        var observer = new ZeroingObserver(block: 0, names: ["self_attn.o_proj", "mlp.down_proj"]);

        LayerwiseCalibrator.Run(model, windows, new CalibrationSettings(Propagation: Propagation.FullPrecision, BatchSize: 3),
            observer, _ => { }, CancellationToken.None);

        var observed = observer.Concatenated(1, "self_attn.q_proj");
        Assert.True(observed.allclose(dense, rtol: 1e-5, atol: 1e-6));
        Assert.False(observed.allclose(identity, rtol: 1e-3, atol: 1e-4));
        observer.Dispose();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Run_RecomputesLaterStagesInputs_OnlyWhenTrueSequential(bool trueSequential)
    {
        using var model = RandomModel();
        using var windows = Windows();
        var observer = new ZeroingObserver(block: 0, names: ["self_attn.v_proj"]);

        LayerwiseCalibrator.Run(model, windows, new CalibrationSettings(TrueSequential: trueSequential), observer, _ => { }, CancellationToken.None);

        // With v_proj zeroed before o_proj is calibrated, every attention output o_proj reads is zero.
        var oInput = observer.Concatenated(0, "self_attn.o_proj");
        Assert.Equal(trueSequential, oInput.abs().max().item<float>() == 0f);
        Assert.Equal(trueSequential ? 4 : 1, observer.Updates.Count(u => u.Block == 0));
        observer.Dispose();
    }

    [Fact]
    public void Run_GivesBothStreams_WhenTwoStreams()
    {
        using var model = RandomModel();
        using var windows = Windows();
        var observer = new ZeroingObserver(block: 0, names: ["mlp.down_proj"]);

        LayerwiseCalibrator.Run(model, windows, new CalibrationSettings(TwoStreams: true), observer, _ => { }, CancellationToken.None);

        // Block 0 sees the same inputs in both streams; block 1 sees the damage done to block 0 in one only.
        Assert.True(observer.Concatenated(0, "mlp.down_proj").allclose(observer.Concatenated(0, "mlp.down_proj", fullPrecision: true)));
        Assert.False(observer.Concatenated(1, "self_attn.q_proj").allclose(observer.Concatenated(1, "self_attn.q_proj", fullPrecision: true),
            rtol: 1e-3, atol: 1e-4));
        observer.Dispose();
    }

    private static Tensor Windows() => torch.randint(0, 53, [5, 12], generator: new torch.Generator(11));

    /// <summary>norm1(embeddings): block 1's q/k/v input when block 0 is the identity.</summary>
    private static Tensor ExpectedBlockOneInputAfterIdentityBlockZero(LlamaForCausalLM model, Tensor windows)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var embedded = model.Model.EmbedTokens.forward(windows);
        return model.Model.Layers[1].InputLayernorm.forward(embedded).reshape(-1, 32).MoveToOuterDisposeScope();
    }

    private static Tensor DenseBlockOneInput(LlamaForCausalLM model, Tensor windows)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var (cos, sin) = model.Model.RotaryTables(windows.shape[1], windows.device);
        var hidden = model.Model.Layers[0].forward(model.Model.EmbedTokens.forward(windows), cos, sin);
        return model.Model.Layers[1].InputLayernorm.forward(hidden).reshape(-1, 32).MoveToOuterDisposeScope();
    }

    private static LlamaForCausalLM RandomModel()
    {
        torch.manual_seed(5);
        var model = new LlamaForCausalLM(new LlamaConfig
        {
            VocabSize = 53,
            HiddenSize = 32,
            IntermediateSize = 48,
            NumHiddenLayers = 2,
            NumAttentionHeads = 4,
            NumKeyValueHeads = 2,
            HeadDim = 8,
            MaxPositionEmbeddings = 64,
            RmsNormEps = 1e-5,
            RopeTheta = 500,
            TieWordEmbeddings = true,
        });
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            using var noise = torch.randn(parameter.shape) * 0.3;
            parameter.copy_(name.Contains("norm") ? noise + 1 : noise);
        }
        return model;
    }

    /// <summary>Keeps every observed input (clones) and zeroes the named linears of one block when their stage ends.</summary>
    private sealed class ZeroingObserver(int block, string[] names) : ICalibrationObserver, IDisposable
    {
        private readonly List<(int Block, string Name, Tensor Input, Tensor? FullPrecision)> _seen = [];

        public List<(int Block, int Linears)> Updates { get; } = [];

        public void Observe(CalibrationBlock calibrationBlock, BlockLinear linear, Tensor input, Tensor? fullPrecisionInput) =>
            _seen.Add((calibrationBlock.Index, linear.Name, input.clone().DetachFromDisposeScope(),
                fullPrecisionInput?.clone().DetachFromDisposeScope()));

        public void Update(CalibrationBlock calibrationBlock, IReadOnlyList<BlockLinear> stage)
        {
            Updates.Add((calibrationBlock.Index, stage.Count));
            if (calibrationBlock.Index != block)
            {
                return;
            }
            using var noGrad = torch.no_grad();
            foreach (var linear in stage.Where(l => names.Contains(l.Name)))
            {
                linear.Module.weight!.zero_();
            }
        }

        public Tensor Concatenated(int blockIndex, string name, bool fullPrecision = false) =>
            torch.cat(_seen.Where(s => s.Block == blockIndex && s.Name == name).Select(s => fullPrecision ? s.FullPrecision! : s.Input).ToList(), 0)
                .DetachFromDisposeScope();

        public void Dispose()
        {
            foreach (var (_, _, input, fullPrecision) in _seen)
            {
                input.Dispose();
                fullPrecision?.Dispose();
            }
        }
    }
}
