using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Optimizer.Domain.Models;
using Optimizer.Domain.Tenancy;

namespace Optimizer.Domain.Persistence.Configurations;

internal sealed class ModelConfiguration : IEntityTypeConfiguration<Model>
{
    public void Configure(EntityTypeBuilder<Model> builder)
    {
        builder.ToTable("models");
        builder.HasKey(m => m.Id);
        builder.Property(m => m.Name).HasMaxLength(Model.MaxNameLength);
        builder.Property(m => m.Status).HasConversion<string>();
        builder.Property(m => m.SparsityPattern).HasMaxLength(32);
        builder.OwnsOne(m => m.Quantization, q => q.ToJson("quantization"));
        builder.HasMany(m => m.Files).WithOne().HasForeignKey(f => f.ModelId).OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(m => m.Files).HasField("_files").UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.HasOne<Tenant>().WithMany().HasForeignKey(m => m.TenantId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(m => new { m.TenantId, m.Id });
    }
}

internal sealed class ModelFileConfiguration : IEntityTypeConfiguration<ModelFile>
{
    public void Configure(EntityTypeBuilder<ModelFile> builder)
    {
        builder.ToTable("model_files");
        builder.HasKey(f => new { f.ModelId, f.Name });
    }
}
