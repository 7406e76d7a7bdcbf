package dev.baton.supervisor;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks the method that sets up what the constructor could not, and that runs before anything else
 * is called; NullAway (which reads the annotation by its simple name) counts the fields it sets as
 * set.
 */
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.METHOD)
@interface Initializer {}
