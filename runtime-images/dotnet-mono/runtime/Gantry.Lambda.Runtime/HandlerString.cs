using System;
using System.Globalization;

namespace Gantry.Lambda.Runtime
{
    /// <summary>`Assembly::Namespace.Class::Method`, checked as AWS's .NET runtime checks it.</summary>
    internal sealed class HandlerString
    {
        private const string Separator = "::";

        public HandlerString(string handler)
        {
            if (string.IsNullOrEmpty(handler)) throw Invalid("Empty lambda function handler. The valid format is 'ASSEMBLY{0}TYPE{1}METHOD'.");
            string[] parts = handler.Split(new[] { Separator }, StringSplitOptions.None);
            if (parts.Length != 3) throw Invalid("Invalid lambda function handler: '{2}'. The valid format is 'ASSEMBLY{0}TYPE{1}METHOD'.", handler);
            if (parts[0].Trim().Length == 0) throw Invalid("Invalid lambda function handler: '{2}', the assembly is missing. The valid format is 'ASSEMBLY{0}TYPE{1}METHOD'.", handler);
            if (parts[1].Trim().Length == 0) throw Invalid("Invalid lambda function handler: '{2}', the type is missing. The valid format is 'ASSEMBLY{0}TYPE{1}METHOD'.", handler);
            if (parts[2].Trim().Length == 0) throw Invalid("Invalid lambda function handler: '{2}', the method is missing. The valid format is 'ASSEMBLY{0}TYPE{1}METHOD'.", handler);
            AssemblyName = parts[0].Trim();
            TypeName = parts[1].Trim();
            MethodName = parts[2].Trim();
        }

        public string AssemblyName { get; private set; }
        public string TypeName { get; private set; }
        public string MethodName { get; private set; }

        private static LambdaValidationException Invalid(string format, string handler = null)
        {
            return new LambdaValidationException(string.Format(CultureInfo.InvariantCulture, format, Separator, Separator, handler));
        }
    }
}
