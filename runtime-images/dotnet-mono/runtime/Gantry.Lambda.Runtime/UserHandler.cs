using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using Amazon.Lambda.Core;

namespace Gantry.Lambda.Runtime
{
    /// <summary>A result ready to post: its bytes and content type.</summary>
    internal struct HandlerResult
    {
        public byte[] Body;
        public int Length;
        public string ContentType;
    }

    /// <summary>
    /// The function's handler, found once at init the way AWS's .NET runtime finds it, then called
    /// per invocation. Signatures: no input, a Stream, or a T through the [LambdaSerializer]
    /// serializer, optionally followed by ILambdaContext; returning void, a Stream, a T, Task or
    /// Task&lt;T&gt;. The serializer and attribute are matched by name, so an assembly that bundles
    /// its own Amazon.Lambda.Core works as well as one that does not.
    /// </summary>
    internal sealed class UserHandler
    {
        private const BindingFlags MethodFlags = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;
        private const string SerializerAttributeName = "Amazon.Lambda.Core.LambdaSerializerAttribute";
        private const string SerializerInterfaceName = "Amazon.Lambda.Core.ILambdaSerializer";
        private const string ContextInterfaceName = "Amazon.Lambda.Core.ILambdaContext";
        /// <summary>One byte over the platform's response limit: enough for it to say ResponseSizeTooLarge.</summary>
        private const int MaxStreamResultBytes = 6291556 + 1;

        private readonly MethodInfo _method;
        private readonly object _target;
        private readonly object _serializer;
        private readonly Kind _input;
        private readonly bool _takesContext;
        private readonly MethodInfo _deserialize;
        private readonly Kind _output;
        private readonly bool _returnsTask;
        private readonly PropertyInfo _taskResult;
        private readonly MethodInfo _serialize;

        private enum Kind { None, Stream, Serialized }

        private UserHandler(HandlerString handler, Assembly assembly, Type type, MethodInfo method)
        {
            _method = method;
            ParameterInfo[] parameters = method.GetParameters();
            if (parameters.Length > 2)
                throw Validation("Method '{0}' of type '{1}' is not supported: the method has more than 2 parameters.", handler.MethodName, handler.TypeName);
            if (parameters.Length == 2)
            {
                Type second = parameters[1].ParameterType;
                if (second.FullName != ContextInterfaceName)
                    throw Validation("Method '{0}' of type '{1}' is not supported: the method has 2 parameters, but the second parameter is not of type '{2}'.", handler.MethodName, handler.TypeName, ContextInterfaceName);
                if (!second.IsAssignableFrom(typeof(LambdaContext)))
                    throw Validation("Method '{0}' of type '{1}' takes an ILambdaContext from '{2}', not the Amazon.Lambda.Core this runtime provides.", handler.MethodName, handler.TypeName, second.Assembly.Location);
                _takesContext = true;
            }

            if (method.IsGenericMethodDefinition)
                throw Validation("The method '{0}' cannot be used as a Lambda Handler because it is a generic method. Handler methods cannot be generic. Please specify a non-generic handler method.", method);
            if (method.IsAbstract)
                throw Validation("The method '{0}' cannot be used as a Lambda Handler because it is an abstract method. Handler methods cannot be abstract. Please specify a non-abstract handler method.", method);
            if (method.ReturnType == typeof(void) && method.GetCustomAttributes(typeof(AsyncStateMachineAttribute), false).Length > 0)
                throw Validation("The method '{0}' cannot be used as a Lambda Handler because it is an 'async void' method. Handler methods cannot be 'async void'. Please specify a method that is not 'async void'.", method);
            if (type.IsGenericTypeDefinition)
                throw Validation("The type '{0}' cannot be used as a Lambda Handler type because it is generic. Handler methods cannot be located in generic types. Please specify a handler method in a non-generic type.", type.FullName);
            if (!method.IsStatic && type.IsAbstract)
                throw Validation("The instance method '{0}' cannot be used as a Lambda Handler because its type '{1}' is abstract. Please either use a static handler or specify a type that is not abstract.", method, type.FullName);

            Type inputType = parameters.Length > 0 ? parameters[0].ParameterType : null;
            Type outputType = method.ReturnType;
            if (typeof(Task).IsAssignableFrom(outputType))
            {
                _returnsTask = true;
                if (outputType.IsGenericType && outputType.GetGenericTypeDefinition() == typeof(Task<>))
                {
                    _taskResult = outputType.GetProperty("Result");
                    outputType = outputType.GetGenericArguments()[0];
                }
                else
                {
                    outputType = typeof(void);
                }
            }
            _input = inputType == null ? Kind.None : inputType == typeof(Stream) ? Kind.Stream : Kind.Serialized;
            _output = outputType == typeof(void) ? Kind.None : typeof(Stream).IsAssignableFrom(outputType) ? Kind.Stream : Kind.Serialized;

            _target = CreateTarget(type, method);
            if (_input == Kind.Serialized || _output == Kind.Serialized)
            {
                _serializer = CreateSerializer(method, assembly);
                if (_serializer == null)
                {
                    if (_input == Kind.Serialized)
                        throw Validation("Could not find the LambdaSerializerAttribute on the assembly '{0}' or method '{1}' while attempting to deserialize input data of type '{2}'. To use types other than System.IO.Stream as input/output parameters, the assembly or Lambda function should be annotated with {3}.", assembly.FullName, method.Name, inputType.FullName, SerializerAttributeName);
                    throw Validation("Could not find the LambdaSerializerAttribute on the assembly '{0}' or method '{1}' while attempting to serialize output data of type '{2}'. To use types other than System.IO.Stream as input/output parameters, the assembly or Lambda function should be annotated with {3}.", assembly.FullName, method.Name, outputType.FullName, SerializerAttributeName);
                }
                Type contract = _serializer.GetType().GetInterface(SerializerInterfaceName);
                if (_input == Kind.Serialized) _deserialize = GenericMethod(contract, "Deserialize", 1).MakeGenericMethod(inputType);
                if (_output == Kind.Serialized) _serialize = GenericMethod(contract, "Serialize", 2).MakeGenericMethod(outputType);
            }
        }

        /// <summary>Loads the handler from the task root. Throws what AWS's runtime reports for each failure.</summary>
        public static UserHandler Load(string taskRoot, string handlerText)
        {
            var handler = new HandlerString(handlerText);
            Assembly assembly = LoadAssembly(taskRoot, handler.AssemblyName);
            Type type = assembly.GetType(handler.TypeName);
            if (type == null)
                throw Validation("Unable to load type '{0}' from assembly '{1}'.", handler.TypeName, handler.AssemblyName);
            MethodInfo method = FindByName(type, handler) ?? FindBySignature(type, handler);
            if (method == null)
                throw Validation("Unable to find method '{0}' in type '{1}' from assembly '{2}': Found no methods matching method name '{3}'.", handler.MethodName, handler.TypeName, handler.AssemblyName, handler.MethodName);
            return new UserHandler(handler, assembly, type, method);
        }

        /// <summary>Calls the handler. What it throws comes out as itself, not wrapped by reflection.</summary>
        public HandlerResult Invoke(Invocation invocation, ILambdaContext context)
        {
            var args = new object[(_input == Kind.None ? 0 : 1) + (_takesContext ? 1 : 0)];
            if (_input != Kind.None)
            {
                var input = new MemoryStream(invocation.Body, 0, invocation.BodyLength, false, true);
                args[0] = _input == Kind.Stream ? (object)input : CallUnwrapped(_deserialize, _serializer, new object[] { input });
            }
            if (_takesContext) args[args.Length - 1] = context;

            object result = CallUnwrapped(_method, _target, args);
            if (_returnsTask)
            {
                var task = (Task)result;
                if (task == null) throw new InvalidOperationException("The handler returned a null Task.");
                task.GetAwaiter().GetResult();
                result = _taskResult == null ? null : _taskResult.GetValue(task, null);
            }

            switch (_output)
            {
                case Kind.None:
                    return new HandlerResult { Body = new byte[0], Length = 0, ContentType = "application/json" };
                case Kind.Stream:
                    return FromStream((Stream)result);
                default:
                    var output = new MemoryStream();
                    CallUnwrapped(_serialize, _serializer, new[] { result, output });
                    return new HandlerResult { Body = output.GetBuffer(), Length = (int)output.Length, ContentType = "application/json" };
            }
        }

        private static HandlerResult FromStream(Stream stream)
        {
            var copy = new MemoryStream();
            if (stream != null)
            {
                using (stream)
                {
                    var chunk = new byte[81920];
                    int n;
                    while (copy.Length < MaxStreamResultBytes && (n = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, MaxStreamResultBytes - copy.Length))) > 0)
                        copy.Write(chunk, 0, n);
                }
            }
            return new HandlerResult { Body = copy.GetBuffer(), Length = (int)copy.Length, ContentType = "application/octet-stream" };
        }

        private static object CallUnwrapped(MethodInfo method, object target, object[] args)
        {
            try
            {
                return method.Invoke(target, args);
            }
            catch (TargetInvocationException e) when (e.InnerException != null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }
        }

        private static Assembly LoadAssembly(string taskRoot, string name)
        {
            string path = TaskAssemblyPath(taskRoot, name);
            if (path == null)
                throw Validation("Could not find the specified handler assembly with the file name '{0}'. The assembly should be located in the root of your uploaded .zip file.", name);
            try
            {
                return Assembly.LoadFrom(path);
            }
            catch (Exception e)
            {
                throw new LambdaValidationException(Format("Unable to load assembly '{0}'.", name), e);
            }
        }

        /// <summary>`name`.dll or `name`.exe at the task root, else null.</summary>
        internal static string TaskAssemblyPath(string taskRoot, string name)
        {
            if (name.IndexOf('/') >= 0 || name.IndexOf('\\') >= 0 || name.IndexOf('\0') >= 0) return null;
            foreach (string ext in new[] { ".dll", ".exe" })
            {
                string path = Path.Combine(taskRoot, name + ext);
                if (File.Exists(path)) return path;
            }
            return null;
        }

        private static MethodInfo FindByName(Type type, HandlerString handler)
        {
            for (Type t = type; t != null; t = t.BaseType)
            {
                try
                {
                    MethodInfo method = t.GetMethod(handler.MethodName, MethodFlags | BindingFlags.DeclaredOnly);
                    if (method != null) return method;
                }
                catch (AmbiguousMatchException)
                {
                    string candidates = string.Join("\n", t.GetMethods(MethodFlags).Where(m => m.Name == handler.MethodName || m.ToString() == handler.MethodName).Select(m => m.ToString()).ToArray());
                    throw Validation("The method '{0}' in type '{1}' appears to have a number of overloads. To call this method please specify a complete method signature. Possible candidates are:\n{2}.", handler.MethodName, t.FullName, candidates);
                }
            }
            return null;
        }

        private static MethodInfo FindBySignature(Type type, HandlerString handler)
        {
            for (Type t = type; t != null; t = t.BaseType)
            {
                MethodInfo method = t.GetMethods(MethodFlags | BindingFlags.DeclaredOnly).FirstOrDefault(m => m.ToString() == handler.MethodName);
                if (method != null) return method;
            }
            return null;
        }

        private static object CreateTarget(Type type, MethodInfo method)
        {
            if (method.IsStatic)
            {
                // The static constructor runs now, in init, as on AWS.
                RuntimeHelpers.RunClassConstructor(type.TypeHandle);
                return null;
            }
            return Activator.CreateInstance(type);
        }

        /// <summary>The serializer named on the method, else on the assembly; null when neither names one.</summary>
        private static object CreateSerializer(MethodInfo method, Assembly assembly)
        {
            Attribute attribute = method.GetCustomAttributes(true).OfType<Attribute>().FirstOrDefault(a => a.GetType().FullName == SerializerAttributeName)
                ?? assembly.GetCustomAttributes(true).OfType<Attribute>().FirstOrDefault(a => a.GetType().FullName == SerializerAttributeName);
            if (attribute == null) return null;
            Type attributeType = attribute.GetType();
            PropertyInfo property = attributeType.GetProperty("SerializerType");
            if (property == null)
                throw Validation("The '{0}' class is invalid: no 'SerializerType' property detected.", attributeType.FullName);
            if (!typeof(Type).IsAssignableFrom(property.PropertyType))
                throw Validation("The '{0}' class is invalid: 'SerializerType' property cannot be converted to type '{1}'.", attributeType.FullName, typeof(Type).FullName);
            var serializerType = property.GetValue(attribute, null) as Type;
            if (serializerType == null)
                throw Validation("The 'SerializerType' property on attribute class '{0}' is not set.", attributeType.FullName);
            ConstructorInfo constructor = serializerType.GetConstructor(Type.EmptyTypes);
            if (constructor == null)
                throw Validation("The indicated serializer '{0}' does not define a public zero-parameter constructor.", serializerType.FullName);
            if (serializerType.GetInterface(SerializerInterfaceName) == null)
                throw Validation("The '{0}' class is invalid: it does not implement the 'ILambdaSerializer' interface.", serializerType.FullName);
            return constructor.Invoke(null);
        }

        private static MethodInfo GenericMethod(Type contract, string name, int parameters)
        {
            MethodInfo method = contract.GetMethods().FirstOrDefault(m => m.Name == name && m.IsGenericMethodDefinition && m.GetParameters().Length == parameters);
            if (method == null) throw Validation("{0}' method not found.", name);
            return method;
        }

        private static string Format(string format, params object[] args)
        {
            return string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args);
        }

        private static LambdaValidationException Validation(string format, params object[] args)
        {
            return new LambdaValidationException(Format(format, args));
        }
    }
}
