using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Optimizer.Api.Extensions;

/// <summary>Swagger UI at <c>/swagger</c> with bearer auth; the document is at <c>/swagger/v1/swagger.json</c>.</summary>
public static class SwaggerExtensions
{
    public static IServiceCollection AddSwagger(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Optimizer API",
                Version = "v1",
                Description = "Quantize, prune, merge, fine-tune and evaluate models. Every /v1 call needs 'Authorization: Bearer <api key>'.",
            });
            o.AddSecurityDefinition("bearer", new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key (opt_…) from POST /v1/admin/tenants/{id}/keys, or the admin key for /v1/admin.",
            });
            o.AddSecurityRequirement(document => new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference("bearer", document)] = [],
            });
            o.OperationFilter<MultipartFormOperationFilter>();
        });
        return services;
    }

    public static WebApplication UseSwaggerDocs(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(o =>
        {
            o.RoutePrefix = "swagger";
            o.SwaggerEndpoint("/swagger/v1/swagger.json", "Optimizer API v1");
        });
        return app;
    }
}

/// <summary>Endpoint metadata describing a streamed multipart body (the handler reads it itself, so nothing is inferred).</summary>
/// <param name="Fields">Text fields.</param>
/// <param name="FileField">Name of the file part(s).</param>
/// <param name="MultipleFiles">Whether several file parts are accepted.</param>
/// <param name="Description">What the body must contain.</param>
public sealed record MultipartFormMetadata(string[] Fields, string FileField, bool MultipleFiles, string Description);

/// <summary>Writes the <c>multipart/form-data</c> request body of endpoints carrying <see cref="MultipartFormMetadata"/>.</summary>
public sealed class MultipartFormOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var form = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<MultipartFormMetadata>().FirstOrDefault();
        if (form is null)
        {
            return;
        }
        var properties = new Dictionary<string, IOpenApiSchema>();
        foreach (var field in form.Fields)
        {
            properties[field] = new OpenApiSchema { Type = JsonSchemaType.String };
        }
        var file = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
        properties[form.FileField] = form.MultipleFiles ? new OpenApiSchema { Type = JsonSchemaType.Array, Items = file } : file;
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = form.Description,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["multipart/form-data"] = new OpenApiMediaType
                {
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Properties = properties,
                        Required = new HashSet<string>([.. form.Fields, form.FileField]),
                    },
                },
            },
        };
    }
}
