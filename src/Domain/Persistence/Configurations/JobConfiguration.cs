using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Tenancy;

namespace Optimizer.Domain.Persistence.Configurations;

internal sealed class JobConfiguration : IEntityTypeConfiguration<Job>
{
    public void Configure(EntityTypeBuilder<Job> builder)
    {
        builder.ToTable("jobs");
        builder.HasKey(j => j.Id);
        builder.Property(j => j.Name).HasMaxLength(Job.MaxNameLength);
        builder.Property(j => j.Status).HasConversion(s => s.ToWire(), s => ParseStatus(s));
        builder.Property(j => j.ParamsJson).HasColumnType("jsonb");
        builder.Property(j => j.ModelsJson).HasColumnType("jsonb");
        builder.Property(j => j.EvaluationJson).HasColumnType("jsonb");
        builder.Property(j => j.MetricsJson).HasColumnType("jsonb");
        builder.HasOne<Tenant>().WithMany().HasForeignKey(j => j.TenantId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(j => new { j.TenantId, j.Id });
        builder.HasIndex(j => j.Status);
    }

    private static JobStatus ParseStatus(string value) =>
        JobStatusExtensions.TryParseWire(value, out var status) ? status : throw new InvalidOperationException($"Unknown job status '{value}'.");
}

internal sealed class JobEventConfiguration : IEntityTypeConfiguration<JobEvent>
{
    public void Configure(EntityTypeBuilder<JobEvent> builder)
    {
        builder.ToTable("job_events");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.DataJson).HasColumnType("jsonb");
        builder.HasIndex(e => new { e.JobId, e.Seq }).IsUnique();
        builder.HasOne<Job>().WithMany().HasForeignKey(e => e.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}
