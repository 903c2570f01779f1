// Gantry's Amazon.Lambda.Core: the types a function built against AWS's Amazon.Lambda.Core package
// uses, with the same names, namespaces and members, so such an assembly binds to these when it
// does not bundle the package (and the runtime keeps this copy loaded when it does). The version is
// the one the package has always carried, so references from any 1.x or 2.x build match.
using System.Reflection;

[assembly: AssemblyTitle("Amazon.Lambda.Core")]
[assembly: AssemblyVersion("1.0.0.0")]
[assembly: AssemblyFileVersion("2.5.0.0")]
