using Optimizer.Worker.Methods.FineTune.Lora;
using Optimizer.Worker.Methods.FineTune.Shared;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.FineTune.Pissa;

/// <summary>
/// PiSSA (ALGORITHMS.md 4.2): a LoRA whose factors start at the top-r singular triplets of W and whose frozen base is
/// the residual. With <c>W = U S Vᵀ</c> and <c>S_r ← S_r/s</c>: <c>A = diag(√S_r)·V_rᵀ</c>, <c>B = U_r·diag(√S_r)</c>,
/// <c>W_res = W − s·B·A</c>, so the model is unchanged at init.
/// </summary>
public sealed class PissaLinear : LoraLinear
{
    private PissaLinear(Linear baseLayer, (Tensor A, Tensor B) factors, double scaling, double dropout, WeightCompander? compander)
        : base(baseLayer, factors.A, factors.B, scaling, dropout, compander)
    {
        using var noGrad = torch.no_grad();
        InitialA = A;
        InitialB = B;
        // The residual is computed from the factors the model actually sees (after the compander's round trip).
        using var delta = InitialB.matmul(InitialA).mul_(scaling);
        BaseWeight.sub_(delta.to(BaseWeight.dtype));
    }

    /// <summary>A₀ (needed to export the trained adapter as a plain LoRA against the original W).</summary>
    public Tensor InitialA { get; }

    /// <summary>B₀.</summary>
    public Tensor InitialB { get; }

    /// <summary>Wraps <paramref name="baseLayer"/>, moving its principal components into the adapter (the base weight becomes the residual).</summary>
    /// <remarks><c>niter</c> 0: exact SVD; k &gt; 0: randomised range finder with k power iterations (PEFT's pissa_niter_k).</remarks>
    public static PissaLinear Create(Linear baseLayer, int rank, double scaling, double dropout, int niter, WeightCompander? compander)
    {
        ArgumentNullException.ThrowIfNull(baseLayer);
        var factors = Factors(baseLayer.weight!, rank, scaling, niter);
        try
        {
            return new PissaLinear(baseLayer, factors, scaling, dropout, compander);
        }
        finally
        {
            factors.A.Dispose();
            factors.B.Dispose();
        }
    }

    /// <summary>
    /// The PEFT "convert to LoRA" export: <c>ΔW = s·(B'A' − B₀A₀) = s·[B', −B₀]·[A'; A₀]</c>, a LoRA of rank 2r against
    /// the original weight (α doubles so that α/r is unchanged).
    /// </summary>
    public override IEnumerable<(string Name, Tensor Value)> PeftTensors()
    {
        yield return ("lora_A.weight", torch.cat([A, InitialA], 0));
        yield return ("lora_B.weight", torch.cat([B, -InitialB], 1));
    }

    /// <summary>Top-r factors with the singular values divided by the scaling (rank capped at min(out, in)).</summary>
    public static (Tensor A, Tensor B) Factors(Tensor weight, int rank, double scaling, int niter)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var w = weight.to(ScalarType.Float32);
        var r = (int)Math.Min(rank, Math.Min(w.shape[0], w.shape[1]));
        Tensor u, s, vh;
        if (niter > 0)
        {
            (u, s, vh) = RandomisedSvd(w, r, niter);
        }
        else
        {
            var (fu, fs, fvh) = torch.linalg.svd(w, fullMatrices: false);
            (u, s, vh) = (fu.narrow(1, 0, r), fs.narrow(0, 0, r), fvh.narrow(0, 0, r));
        }
        var root = (s / scaling).sqrt();
        var a = root.unsqueeze(1) * vh;
        var b = u * root.unsqueeze(0);
        return (a.contiguous().MoveToOuterDisposeScope(), b.contiguous().MoveToOuterDisposeScope());
    }

    /// <summary>Halko et al.'s randomised SVD (what torch.svd_lowrank does): Q spans W·Ω refined by power iterations.</summary>
    private static (Tensor U, Tensor S, Tensor Vh) RandomisedSvd(Tensor w, int rank, int niter)
    {
        var oversample = Math.Min(rank + 10, (int)Math.Min(w.shape[0], w.shape[1]));
        var omega = torch.randn(w.shape[1], oversample);
        var (q, _) = torch.linalg.qr(w.matmul(omega));
        for (var i = 0; i < niter; i++)
        {
            (q, _) = torch.linalg.qr(w.t().matmul(q));
            (q, _) = torch.linalg.qr(w.matmul(q));
        }
        var (ub, s, vh) = torch.linalg.svd(q.t().matmul(w), fullMatrices: false);
        return (q.matmul(ub).narrow(1, 0, rank), s.narrow(0, 0, rank), vh.narrow(0, 0, rank));
    }
}
