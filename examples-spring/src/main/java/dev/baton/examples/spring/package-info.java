/** Null-checked: nothing here is null unless marked {@code @Nullable}. */
@NullMarked
package dev.baton.examples.spring;

import org.jspecify.annotations.NullMarked;
