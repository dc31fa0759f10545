global using Microsoft.AspNetCore.Http.HttpResults;
global using Microsoft.EntityFrameworkCore;
global using Optimizer.Domain.Persistence;
global using Optimizer.Domain.Storage;
