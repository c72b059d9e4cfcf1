package dev.shears.nativebind;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loaded native library (or the reason it could not be loaded) that hands out downcall
 * handles. A handle for a missing symbol, or from a library that failed to load, throws a
 * {@link NativeLibraryException} when called rather than when bound, so one absent optional
 * function does not break the others.
 */
public final class LoadedLibrary {
    private static final Linker LINKER = Linker.nativeLinker();

    private final CudaLibrary library;
    private final String location;
    private final SymbolLookup lookup;
    private final NativeLibraryException failure;
    /** every downcall handed out, bound or not, in order: what the signature tests compare with the C headers */
    private final List<Binding> bindings = new CopyOnWriteArrayList<>();

    /** One {@link #downcall} request: the symbol names asked for, preferred first, and the descriptor used. */
    record Binding(List<String> names, FunctionDescriptor descriptor) {}

    LoadedLibrary(CudaLibrary library, String location, SymbolLookup lookup) {
        this.library = library;
        this.location = location;
        this.lookup = lookup;
        this.failure = null;
    }

    private LoadedLibrary(CudaLibrary library, NativeLibraryException failure) {
        this.library = library;
        this.location = null;
        this.lookup = null;
        this.failure = failure;
    }

    /** Loads {@code library} with the standard discovery, keeping the failure if it does not load. */
    public static LoadedLibrary loadOrFailure(CudaLibrary library) {
        try {
            return LibraryDiscovery.standard().load(library);
        } catch (NativeLibraryException e) {
            return new LoadedLibrary(library, e);
        }
    }

    public CudaLibrary library() { return library; }

    /** Where the library was loaded from, or null when it failed to load. */
    public String location() { return location; }

    public boolean isLoaded() { return failure == null; }

    /** Why the library did not load, if it did not. */
    public Optional<NativeLibraryException> failure() { return Optional.ofNullable(failure); }

    /** Whether the library exports {@code symbol}. */
    public boolean has(String symbol) {
        return lookup != null && lookup.find(symbol).isPresent();
    }

    /**
     * A downcall handle for the first of {@code names} the library exports (list versioned
     * names such as {@code cuMemAlloc_v2} first). Never fails: a handle that cannot be bound
     * throws a {@link NativeLibraryException} when invoked.
     */
    public MethodHandle downcall(FunctionDescriptor descriptor, String... names) {
        bindings.add(new Binding(List.of(names), descriptor));
        if (failure != null) return thrower(descriptor, failure.summary(), failure.tried());
        for (String name : names) {
            Optional<MemorySegment> symbol = lookup.find(name);
            if (symbol.isPresent()) return LINKER.downcallHandle(symbol.get(), descriptor);
        }
        return thrower(descriptor, library.displayName() + " at " + location + " does not export "
                + String.join(" or ", names) + " (library too old or not the expected one?)", List.of());
    }

    /**
     * Every downcall requested so far (whether the library loaded or not), so tests can check each
     * symbol name and descriptor against the C prototypes without the library.
     */
    List<Binding> bindings() { return List.copyOf(bindings); }

    private static MethodHandle thrower(FunctionDescriptor descriptor, String message, List<String> tried) {
        MethodType type = descriptor.toMethodType();
        try {
            MethodHandle make = MethodHandles.lookup().findStatic(LoadedLibrary.class, "newFailure",
                    MethodType.methodType(NativeLibraryException.class, String.class, List.class));
            make = MethodHandles.insertArguments(make, 0, message, tried);
            MethodHandle raise = MethodHandles.throwException(type.returnType(), NativeLibraryException.class);
            MethodHandle raiseNew = MethodHandles.collectArguments(raise, 0, make);
            return MethodHandles.dropArguments(raiseNew, 0, type.parameterList());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot build the missing-symbol handle", e);
        }
    }

    @SuppressWarnings("unused") // called through a method handle
    private static NativeLibraryException newFailure(String message, List<String> tried) {
        return new NativeLibraryException(message, tried);
    }

    @Override public String toString() {
        return library.displayName() + (failure == null ? " at " + location : " (not loaded)");
    }
}
