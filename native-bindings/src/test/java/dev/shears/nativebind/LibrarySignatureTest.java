package dev.shears.nativebind;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The hand-written cuBLAS, cuSPARSE and cuSPARSELt downcalls against the C prototypes distilled
 * from the headers into {@code src/test/resources/abi/} (no header or GPU needed): every symbol the
 * bindings ask for must be declared there under exactly that name (a legacy or unversioned name such
 * as {@code cublasSgemm} resolves to a different function from {@code cublasSgemm_v2}), and every
 * parameter's Java carrier must be what its C type passes as ({@link CCarriers}). A wrong carrier,
 * a missing or extra argument, or a wrong name would corrupt the call silently on the GPU.
 */
class LibrarySignatureTest {

    static Stream<Arguments> libraries() {
        return Stream.of(
                Arguments.of(Cublas.class, "abi/cublas-12.4.txt", 9),
                Arguments.of(Cusparse.class, "abi/cusparse-12.4.txt", 16),
                Arguments.of(CusparseLt.class, "abi/cusparselt.txt", 22));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("libraries")
    void everyDowncallMatchesItsCPrototype(Class<?> bindings, String factsResource, int expectedBindings) throws Exception {
        AbiFacts facts = AbiFacts.load(factsResource);
        LoadedLibrary lib = (LoadedLibrary) bindings.getMethod("library").invoke(null); // initialises the handle holder
        List<LoadedLibrary.Binding> bound = lib.bindings();
        assertEquals(methodHandleFields(bindings), bound.size(),
                bindings.getSimpleName() + ": every MethodHandle in the holder must come from LoadedLibrary.downcall");
        assertEquals(expectedBindings, bound.size(), bindings.getSimpleName() + " binds a different number of functions"
                + " than this test expects: update the count after checking the new binding's facts");

        List<String> failures = new ArrayList<>();
        Set<String> boundNames = new HashSet<>();
        for (LoadedLibrary.Binding b : bound) {
            MethodType type = b.descriptor().toMethodType();
            for (String name : b.names()) {
                boundNames.add(name);
                AbiFacts.Function f = facts.functions().get(name);
                if (f == null) {
                    String alias = facts.aliases().get(name);
                    failures.add(name + " is not declared in " + facts.header() + (alias != null
                            ? " as a current API; cublas_v2.h maps it to " + alias + ": bind that symbol"
                            : " (misspelt, missing a _v2 suffix, or new: regenerate " + factsResource + ")"));
                    continue;
                }
                check(f, type, facts, failures);
            }
        }
        for (String declared : facts.functions().keySet())
            if (!boundNames.contains(declared))
                failures.add(factsResource + " lists " + declared + " but " + bindings.getSimpleName()
                        + " no longer binds it: regenerate the facts");
        assertTrue(failures.isEmpty(), bindings.getSimpleName() + " vs " + facts.header() + ":\n  " + String.join("\n  ", failures));
    }

    private static void check(AbiFacts.Function f, MethodType type, AbiFacts facts, List<String> failures) {
        if (f.params().size() != type.parameterCount()) {
            failures.add(f.name() + ": C takes " + f.params().size() + " parameters " + f.params() + ", the descriptor passes "
                    + type.parameterCount() + " " + type.parameterList().stream().map(Class::getSimpleName).toList());
            return;
        }
        for (int i = 0; i < f.params().size(); i++) {
            String c = f.params().get(i);
            Set<Class<?>> allowed = CCarriers.of(c, facts.kinds()::get, true, f.name() + " parameter " + i);
            Class<?> actual = type.parameterType(i);
            if (!allowed.contains(actual))
                failures.add(f.name() + " parameter " + i + " is C '" + c + "' (passes as " + names(allowed) + ") but the descriptor"
                        + " passes " + actual.getSimpleName());
        }
        Set<Class<?>> ret = CCarriers.of(f.returns(), facts.kinds()::get, false, f.name() + " return");
        if (!ret.contains(type.returnType()))
            failures.add(f.name() + " returns C '" + f.returns() + "' (" + names(ret) + ") but the descriptor returns "
                    + type.returnType().getSimpleName());
    }

    private static String names(Set<Class<?>> classes) {
        return classes.stream().map(Class::getSimpleName).sorted().toList().toString();
    }

    private static int methodHandleFields(Class<?> bindings) throws ClassNotFoundException {
        int n = 0;
        for (Field f : Class.forName(bindings.getName() + "$H").getDeclaredFields())
            if (f.getType() == MethodHandle.class && Modifier.isStatic(f.getModifiers())) n++;
        return n;
    }
}
